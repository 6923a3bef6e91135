-- feedloop schema v7: the annotator web app's credentials. An invite token is shown once (in the
-- link `feedloop annotate invite` prints) and stored only as its SHA-256; the link exchanges it
-- for a session cookie, also stored only as a hash. Revoking a token ends its sessions at once:
-- every request looks the session up through its token.

create table annotator_tokens (
  -- public, non-secret id: printed by invite, listed by `annotate tokens`, used by revoke
  token_id      text primary key,
  token_hash    bytea not null unique check (octet_length(token_hash) = 32),
  campaign_id   text not null references campaigns(id) on delete cascade,
  annotator     text not null,
  role          text not null check (role in ('annotator', 'owner')),
  created_at    timestamptz not null default now(),
  expires_at    timestamptz not null,
  revoked_at    timestamptz,
  check (expires_at > created_at)
);
create index annotator_tokens_campaign on annotator_tokens(campaign_id, annotator);

create table annotator_sessions (
  session_hash  bytea primary key check (octet_length(session_hash) = 32),
  token_id      text not null references annotator_tokens(token_id) on delete cascade,
  created_at    timestamptz not null default now(),
  expires_at    timestamptz not null
);
create index annotator_sessions_token on annotator_sessions(token_id);
