-- Listing ownership and namespaces (issue 10). A private listing is stored
-- under its tenant's namespace, `tenant/slug`, so it can never take, shadow
-- or block a public id; instances of it follow. A public listing records the
-- tenant whose approved submission created it as its owner (NULL: the
-- platform), and only that owner's submissions publish further versions.
-- Append-only, like every migration.

UPDATE connectors SET listing_id = tenant_id || '/' || listing_id
  WHERE listing_id IN (
    SELECT id FROM listings WHERE visibility = 'private' AND owner_tenant = connectors.tenant_id);

UPDATE listing_versions
  SET listing_id = (SELECT owner_tenant FROM listings WHERE listings.id = listing_versions.listing_id)
                   || '/' || listing_id
  WHERE listing_id IN (SELECT id FROM listings WHERE visibility = 'private');

UPDATE listings
  SET summary = json_set(summary, '$.id', owner_tenant || '/' || id),
      id = owner_tenant || '/' || id
  WHERE visibility = 'private';

-- The creator of a public listing: the tenant of the approved public
-- submission of its first published version, if it came from one.
UPDATE listings
  SET owner_tenant = (
    SELECT s.tenant_id FROM submissions s
    JOIN listing_versions v ON v.listing_id = s.listing_id AND v.version = s.version
    WHERE s.listing_id = listings.id AND s.status = 'approved' AND s.visibility = 'public'
    ORDER BY v.published_at LIMIT 1)
  WHERE visibility = 'public' AND owner_tenant IS NULL
    AND (SELECT version FROM listing_versions WHERE listing_id = listings.id
         ORDER BY published_at, version LIMIT 1)
        IN (SELECT version FROM submissions
            WHERE listing_id = listings.id AND status = 'approved' AND visibility = 'public');
