-- Deleting a campaign deletes its deliveries (foreign key, on delete cascade) and its delivery
-- counters; 0016's trigger then tried to count the deleted deliveries down on counters of a
-- campaign that no longer exists, and the delete failed. Counted down only for campaigns that remain.
create or replace function mailroom_count_deliveries() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into delivery_counts as c
    select campaign_id, wave, channel, status, recovery is not null, sent_at is not null, count(*)
    from new_rows group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6
    on conflict (campaign_id, wave, channel, status, recovered, dated) do update set n = c.n + excluded.n;
  elsif tg_op = 'DELETE' then
    -- Deliveries deleted with their campaign: its counters went with it (foreign key).
    insert into delivery_counts as c
    select campaign_id, wave, channel, status, recovery is not null, sent_at is not null, -count(*)
    from old_rows o where exists (select 1 from campaigns k where k.id = o.campaign_id)
    group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6
    on conflict (campaign_id, wave, channel, status, recovered, dated) do update set n = c.n + excluded.n;
  else
    insert into delivery_counts as c
    select campaign_id, wave, channel, status, recovered, dated, sum(n) from (
      select campaign_id, wave, channel, status, recovery is not null as recovered, sent_at is not null as dated, 1 as n from new_rows
      union all
      select campaign_id, wave, channel, status, recovery is not null, sent_at is not null, -1 from old_rows
    ) x
    group by 1, 2, 3, 4, 5, 6 having sum(n) <> 0 order by 1, 2, 3, 4, 5, 6
    on conflict (campaign_id, wave, channel, status, recovered, dated) do update set n = c.n + excluded.n;
  end if;
  return null;
end $$;
