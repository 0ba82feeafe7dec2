"""Generates listings and publishes them through the operator's
PUT /v1/catalog/{id}, CONCURRENCY at a time; prints "<published> <seconds>".

Each listing is a shipped manifest (catalog/*.json, one of a few small ones,
so every manifest validates the way a real one does) cut to its first tool,
with its display made up: a vendor-like name, a description built from its
category's phrases, tags, an icon, a colour, featured for about 1 in 100.
Listing i is the same on every run (seeded by i), so runs compare.

Usage: scale_listings.py <base> <operator token> <from> <to> [concurrency]
"""
import http.client
import json
import random
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

base, token, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 8
catalog = Path(__file__).resolve().parent.parent / "catalog"

TEMPLATES = ["hacker-news", "gitlab", "linear", "stripe", "remote-mcp", "github-mcp",
             "google-drive", "mysql", "cloudflare", "slack", "salesforce"]
templates = []
for name in TEMPLATES:
    m = json.loads((catalog / f"{name}.json").read_text())
    m["tools"] = m["tools"][:1]
    templates.append(m)

STEMS = ["acme", "blue", "cloud", "data", "sales", "quick", "open", "bright", "nova", "pixel",
         "zen", "hyper", "meta", "flow", "sync", "stack", "core", "pulse", "atlas", "orbit",
         "cargo", "ledger", "signal", "spark", "harbor", "summit", "vector", "lumen", "echo",
         "north", "river", "maple", "cobalt", "amber", "delta", "sierra", "tango", "kilo",
         "quantum", "rapid", "smart", "true", "clear", "prime", "fleet", "metric", "insight",
         "market", "ticket", "chat", "mail", "doc", "form", "shop", "cart", "pay", "bill", "hire"]
ENDS = ["ly", "io", "hub", "desk", "base", "flow", "force", "stack", "works", "grid", "sense",
        "scope", "point", "forge", "labs", "cloud", "mail", "pay", "track", "sign", "box", "bot",
        "ify", "wise", "loop", "link", "wave", "craft", "sphere", "verse"]
PRODUCTS = ["", "", "", "CRM", "Analytics", "Cloud", "API", "Connect", "Cloud Storage",
            "Data Warehouse", "Helpdesk", "Payments", "Suite", "Pipelines", "Sync", "Insights"]
CATEGORIES = {
    "crm": (["contacts", "deals", "pipelines", "accounts", "leads", "opportunities"],
            ["crm", "sales", "contacts", "marketing"]),
    "developer-tools": (["repositories", "builds", "deployments", "issues", "pull requests", "releases"],
                        ["git", "ci", "devops", "code-review"]),
    "communication": (["channels", "messages", "threads", "calls", "notifications"],
                      ["chat", "messaging", "email", "voice"]),
    "productivity": (["documents", "notes", "calendars", "tasks", "spreadsheets"],
                     ["docs", "notes", "calendar", "wiki"]),
    "project-management": (["projects", "sprints", "boards", "milestones", "tickets"],
                           ["agile", "kanban", "tickets", "roadmap"]),
    "payments": (["charges", "invoices", "refunds", "subscriptions", "payouts"],
                 ["billing", "invoicing", "payments", "finance"]),
    "databases": (["tables", "queries", "records", "schemas", "backups"],
                  ["sql", "database", "nosql", "data-warehouse"]),
    "ecommerce": (["orders", "products", "carts", "inventory", "shipments"],
                  ["shop", "orders", "catalog", "retail"]),
    "customer-support": (["tickets", "conversations", "customers", "macros", "satisfaction surveys"],
                         ["support", "helpdesk", "tickets", "chat"]),
    "file-storage": (["files", "folders", "shared drives", "uploads", "versions"],
                     ["storage", "files", "backup", "sharing"]),
    "ai-tools": (["models", "agents", "embeddings", "prompts", "datasets"],
                 ["ai", "llm", "agents", "vector-search"]),
    "infrastructure": (["servers", "DNS records", "logs", "metrics", "alerts"],
                       ["monitoring", "dns", "logs", "cloud"]),
    "analytics": (["dashboards", "events", "funnels", "reports", "data exports"],
                  ["analytics", "bi", "reporting", "data"]),
    "marketing": (["campaigns", "audiences", "newsletters", "landing pages", "ads"],
                  ["marketing", "email", "ads", "seo"]),
    "hr": (["employees", "candidates", "payroll runs", "time off", "reviews"],
           ["hr", "recruiting", "payroll", "people"]),
}
VERBS = ["Sync", "Read and update", "Search", "Create and track", "Manage", "Export", "Automate",
         "Query", "Monitor", "Import"]
EXTRAS = ["Read-only access is enough for reporting.", "Webhooks keep your data in sync.",
          "Works with the cloud and self-hosted editions.", "Bulk data exports included.",
          "Single sign-on for teams.", "Free tier available.", "Built for enterprise data teams.",
          "Supports sandbox accounts."]


def listing(i):
    r = random.Random(i)
    t = json.loads(json.dumps(templates[i % len(templates)]))
    brand = r.choice(STEMS).capitalize() + r.choice(ENDS)
    product = r.choice(PRODUCTS)
    name = f"{brand} {product}".strip()
    category = r.choice(sorted(CATEGORIES))
    nouns, tags = CATEGORIES[category]
    a, b = r.sample(nouns, 2)
    description = f"{r.choice(VERBS)} {a} and {b} in {brand}. {r.choice(EXTRAS)}"
    slug = "-".join(name.lower().split()) + f"-{i}"
    t.update({
        "id": slug,
        "name": name,
        "description": description,
        "category": category,
        "tags": sorted(set(r.sample(tags, 2) + [brand.lower()])),
        "icon": f"https://cdn.example.com/icons/{slug}.svg",
        "brand_color": "#%06X" % r.randrange(0x1000000),
        "version": f"1.{r.randrange(10)}.0",
        "featured": r.random() < 0.01,
    })
    return slug, json.dumps(t).encode()


u = urllib.parse.urlsplit(base)
local = threading.local()


def put(i):
    slug, body = listing(i)
    for attempt in range(3):
        try:
            conn = getattr(local, "conn", None) or http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            local.conn = conn
            conn.request("PUT", f"/v1/catalog/{slug}", body,
                         {"authorization": f"Bearer {token}", "content-type": "application/json"})
            res = conn.getresponse()
            answer = res.read()
            if res.status != 200:
                raise SystemExit(f"PUT {slug}: {res.status} {answer[:300]!r}")
            return
        except (OSError, http.client.HTTPException):
            local.conn = None
            if attempt == 2:
                raise


start = time.monotonic()
with ThreadPoolExecutor(concurrency) as pool:
    for _ in pool.map(put, range(first, last)):
        pass
print(last - first, f"{time.monotonic() - start:.1f}")
