-- 001_init: the PostgreSQL policy store's tables. Runs with search_path set to the store's schema.
-- Documents are `json` (not jsonb): kept byte for byte, and `\u0000` in an evidence snippet is legal.

CREATE TABLE policies (
  name        text        NOT NULL,
  version     text        NOT NULL,
  integrity   text        NOT NULL,
  policy      json        NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (name, version)
);

CREATE TABLE decisions (
  name        text        NOT NULL,
  version     text        NOT NULL,
  state       text        NOT NULL CHECK (state IN ('allowed', 'flagged', 'held', 'approved', 'denied')),
  record      json        NOT NULL,
  updated_at  timestamptz NOT NULL,
  audit_id    bigint      NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE INDEX decisions_by_state ON decisions (state, updated_at DESC, audit_id DESC);

-- Append-only: the store only ever INSERTs here.
CREATE TABLE audit_log (
  id          bigserial   PRIMARY KEY,
  at          timestamptz NOT NULL,
  name        text        NOT NULL,
  version     text        NOT NULL,
  action      text        NOT NULL,
  by_user     text        NOT NULL,
  reason      text        NOT NULL,
  details     json
);
CREATE INDEX audit_log_by_name ON audit_log (name, id DESC);

CREATE TABLE scoped_approvals (
  id          uuid        PRIMARY KEY,
  name        text        NOT NULL,
  range       text        NOT NULL,
  capability  text        NOT NULL,
  expires_at  timestamptz,
  by_user     text        NOT NULL,
  reason      text        NOT NULL,
  created_at  timestamptz NOT NULL
);
CREATE INDEX scoped_approvals_by_name ON scoped_approvals (name, created_at);

-- Kept after delivery, so that enqueueing the same event id again stays a no-op.
CREATE TABLE outbox_events (
  id          text        PRIMARY KEY,
  event       json        NOT NULL,
  created_at  timestamptz NOT NULL
);

CREATE TABLE outbox_deliveries (
  event_id        text        NOT NULL REFERENCES outbox_events (id) ON DELETE CASCADE,
  target          text        NOT NULL,
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_error      text,
  claim_owner     text,
  claim_until     timestamptz,
  delivered_at    timestamptz,
  PRIMARY KEY (event_id, target)
);
CREATE INDEX outbox_deliveries_due ON outbox_deliveries (next_attempt_at) WHERE delivered_at IS NULL;

-- Analysis leases: one instance analyses a tarball, the others wait for its result.
CREATE TABLE leases (
  key         text        PRIMARY KEY,
  owner       text        NOT NULL,
  until       timestamptz NOT NULL
);
