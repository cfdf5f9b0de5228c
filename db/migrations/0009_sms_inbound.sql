-- Inbound SMS as Twilio posted them to the tracking server's /twilio/inbound, one row per message
-- (Twilio's MessageSid), so that a message posted again (a retry, a replay) takes effect once.
-- STOP and START decide a number's SMS opt-out in the order Twilio received them: received_at
-- is Twilio's date_created when the server could ask Twilio for it (clock 'twilio'), else the
-- time the message first reached the server (clock 'arrival'); ties go by id, the order they
-- reached it. A STOP or START older than the number's latest one is recorded and changes nothing.
-- The text of a message is not kept here (replies are responses, with their text).
create table sms_inbound (
  id           bigint generated always as identity primary key,
  message_sid  text not null,
  phone        text not null,
  keyword      text check (keyword in ('stop', 'start', 'help')),
  received_at  timestamptz not null,
  clock        text not null check (clock in ('twilio', 'arrival')),
  arrived_at   timestamptz not null default now(),
  constraint sms_inbound_message_sid_key unique (message_sid)
);
create index sms_inbound_opt_outs on sms_inbound (phone, received_at, id) where keyword in ('stop', 'start');
