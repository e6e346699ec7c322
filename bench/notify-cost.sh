#!/usr/bin/env bash
# What a NOTIFY inside the revoking transaction costs PostgreSQL alone, without any HTTP server: pgbench runs
# oauth_revoke_token on live tokens of a fresh database (the schema from this checkout's migrations, built
# with `npm run build`), with the notification triggers on and then off, in alternating rounds.
#
#   bench/notify-cost.sh            # needs pgbench, psql and GNU time; BENCH_DATABASE_URL as in bench/run.mjs
#
# Settings (environment): NOTIFY_COST_GRANTS (200000), NOTIFY_COST_CLIENTS (8 pgbench connections),
# NOTIFY_COST_SECONDS (15 per round), NOTIFY_COST_ROUNDS (2). PostgreSQL CPU per revocation is the machine's
# busy time over the round, less pgbench's own, divided by the revocations: run it on a quiet machine.
# "on" is the schema as migrated (one notification per revocation inside the revoking transaction), "off"
# none, "after" none inside it and one sent right after its commit. Each round must revoke
# fewer tokens than were seeded (a token revoked twice is a cheaper no-op): raise NOTIFY_COST_GRANTS if
# a round reports more revocations than that.
set -euo pipefail
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
cd "$(dirname "$0")/.."
base="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/}"
grants="${NOTIFY_COST_GRANTS:-200000}"
clients="${NOTIFY_COST_CLIENTS:-8}"
seconds="${NOTIFY_COST_SECONDS:-15}"
rounds="${NOTIFY_COST_ROUNDS:-2}"
admin="${base%/}/postgres"
template=nor_notify_cost_template
db=nor_notify_cost_run
work="$(mktemp -d)"
trap 'rm -rf "$work"; psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "DROP DATABASE IF EXISTS $template WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

psql -q "$admin" -c "DROP DATABASE IF EXISTS $template WITH (FORCE)" -c "CREATE DATABASE $template"
DATABASE_URL="${base%/}/$template" node node_modules/typeorm/cli.js migration:run -d dist/src/host/data-source.js >/dev/null
psql -q "${base%/}/$template" <<SQL
INSERT INTO clients (client_id, token_endpoint_auth_method) VALUES ('notify-cost', 'none');
CREATE TABLE seed AS SELECT i, gen_random_uuid() AS id FROM generate_series(1, $grants) i;
INSERT INTO grants (id, client_id, subject, scope) SELECT id, 'notify-cost', '@u' || i, 'openid' FROM seed;
INSERT INTO access_tokens (grant_id, token_hash, expires_at) SELECT id, sha256(('a' || i)::bytea), now() + interval '1 day' FROM seed;
INSERT INTO refresh_tokens (grant_id, token_hash) SELECT id, sha256(('r' || i)::bytea) FROM seed;
DROP TABLE seed;
-- Each pgbench transaction revokes the next grant's access token: every revocation is a real one.
CREATE SEQUENCE notify_cost_next;
SQL
echo "SELECT outcome FROM oauth_revoke_token(sha256(('a' || nextval('notify_cost_next'))::bytea), 'access_token', 'notify-cost', 'revoke');" > "$work/revoke.sql"
# "after": no notification inside the revoking transaction; the grant announced by a statement of its own
# once the revocation has committed, as the server does (one notification per revocation here; the server
# batches those that finish together).
cp "$work/revoke.sql" "$work/after.sql"
echo "SELECT pg_notify('oauth_invalidate', 'g:' || gen_random_uuid()::text);" >> "$work/after.sql"

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
hz=$(getconf CLK_TCK)
one() {
  local label=$1 triggers=$2
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db TEMPLATE $template"
  if [ "$triggers" != on ]; then
    psql -q "${base%/}/$db" -c "ALTER TABLE grants DISABLE TRIGGER grants_revoked_notify" \
      -c "ALTER TABLE access_tokens DISABLE TRIGGER access_tokens_revoked_notify" \
      -c "ALTER TABLE revocation_audit DISABLE TRIGGER revocation_audit_notify"
  fi
  psql -q "${base%/}/$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"
  local b0 b1 out
  b0=$(busy)
  out=$( { /usr/bin/env time -f "PGBENCH_CPU %U %S" pgbench -n -c "$clients" -j "$(( clients < 2 ? clients : 2 ))" -T "$seconds" -M prepared -f "$work/$( [ "$triggers" = after ] && echo after || echo revoke ).sql" "${base%/}/$db"; } 2>&1)
  b1=$(busy)
  local tx tps own
  tx=$(echo "$out" | awk -F': ' '/actually processed/{split($2, a, "/"); print a[1]}')
  tps=$(echo "$out" | awk '/^tps/{printf "%.0f", $3; exit}')
  own=$(echo "$out" | awk -v hz="$hz" '/^PGBENCH_CPU/{printf "%.0f", ($2 + $3) * hz}')
  if [ -z "$tx" ] || [ "$tx" -eq 0 ]; then echo "$label: pgbench failed"; echo "$out"; return 1; fi
  echo "$label  notifications $triggers  revocations $tx  revocations/s $tps  PostgreSQL CPU µs/revocation $(( (b1 - b0 - own) * 1000000 / hz / tx ))"
}
for r in $(seq 1 "$rounds"); do
  one "round $r" on
  one "round $r" off
  one "round $r" after
done
