-- The tracking server's lookups. A Twilio status callback names the provider's message id; a
-- PURL or unsubscribe link names a member's response code, which the server stores in
-- campaign_members.response_code the first time a campaign's code is asked for
-- (activities/responses/member-codes.ts): this index finds the members whose code is not stored yet.
create index deliveries_provider_id on deliveries (provider_id) where provider_id is not null;
create index campaign_members_code_missing on campaign_members (campaign_id, customer_id) where response_code is null;
