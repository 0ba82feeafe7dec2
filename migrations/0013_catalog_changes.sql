-- The catalog's change sequence (issue 16). Every write of a listing
-- (publish, approval, de-list, re-list) sets `change_seq` to one more than
-- the highest, in the same statement: D1 runs one writer at a time, so a
-- later write always carries a higher number. Each isolate keeps its
-- catalog index in memory and reads only the listings changed after the
-- last (change_seq, id) it saw, through this index. Rows written before this
-- migration stay at 0 and are read by an isolate's first load.
-- Append-only, like every migration.

ALTER TABLE listings ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX listings_by_change ON listings (change_seq, id);
