-- Offline responses brought in by `mailroom import responses`: the imports table records them
-- too, with how the rows came out, so the report can show an import's match rate.
alter table imports drop constraint imports_kind_check;
alter table imports add constraint imports_kind_check check (kind in ('customers', 'orders', 'seed', 'responses'));

-- read = matched + duplicates + unmatched + rejected for a responses import; matched_by counts
-- the matched rows by the key that found their customer ({"code": 120, "phone": 40, …}).
alter table imports
  add column matched integer not null default 0,
  add column unmatched integer not null default 0,
  add column duplicates integer not null default 0,
  add column matched_by jsonb not null default '{}';
