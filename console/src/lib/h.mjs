// Preact + htm: components are plain functions returning html`…` templates.
// htm builds the tree without eval or Function (CSP `script-src 'self'`), and
// Preact sets every text and attribute through the DOM, so whatever the API
// answers is escaped: no innerHTML anywhere in the console.
import { h, render, Fragment } from "preact";
import htm from "htm";

export const html = htm.bind(h);
export { render, Fragment };
