-- Per-tenant suppression list: addresses Switchyard must not send to. An email address lands here
-- from SendGrid's Event Webhook (bounce, dropped, spamreport, unsubscribe, group_unsubscribe), a
-- phone number from an inbound SMS opt-out keyword (STOP, …) Twilio forwards. A lifted entry
-- (group_resubscribe, START, an operator) keeps its row with suppressed = false, so an older event
-- delivered late cannot suppress the address again: every change carries its event's time and
-- only a newer one wins.
CREATE TABLE suppressions (
  tenant          text        NOT NULL,
  channel         text        NOT NULL CHECK (channel IN ('email', 'sms')),
  -- Normalised: e-mail addresses trimmed and lower-cased, phone numbers as E.164.
  address         text        NOT NULL,
  suppressed      boolean     NOT NULL,
  -- bounce | dropped | spamreport | unsubscribe | group_unsubscribe | opt_out (while suppressed);
  -- group_resubscribe | opt_in | operator (once lifted).
  reason          text        NOT NULL,
  -- Who said so: the provider whose event it was, or operator.
  source          text        NOT NULL,
  source_event_id text,
  detail          text,
  -- The time of the event that made the latest change (its own timestamp where it carries one).
  changed_at      timestamptz NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, channel, address)
);

CREATE INDEX suppressions_listed_idx ON suppressions (tenant, changed_at DESC) WHERE suppressed;
