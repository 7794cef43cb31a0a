// Schema-only validation of a trace with ocpp-rpc's own strict-mode validators, for the
// side-by-side figures of `cargo bench --bench check_throughput`.
//
// node validate.mjs TRACE.jsonl
//
// Does what a strict ocpp-rpc peer does with each received frame, and no more: parse the
// trace record and the frame inside it, validate a CALL against `urn:<Action>.req` and a
// CALLRESULT against the response schema of the CALL it answers (ids paired per connection
// and caller). Framing, sequencing and state are not judged. Prints one line:
//   frames=N valid=N invalid=N seconds=S steady_seconds=S
// where `seconds` includes loading the validators and `steady_seconds` does not.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const t0 = process.hrtime.bigint();
const validators = require('ocpp-rpc/lib/standard-validators.js');
const bySubprotocol = new Map(validators.map((v) => [v.subprotocol, v]));
// Schema ids: `urn:<Action>.req` / `.conf` in ocpp-rpc's 1.6 and 2.0.1 sets, but
// `urn:<Action>Request` / `Response` in its 2.1 set.
const ids = {
  'ocpp1.6': ['.req', '.conf'],
  'ocpp2.0.1': ['.req', '.conf'],
  'ocpp2.1': ['Request', 'Response'],
};

const path = process.argv[2];
if (!path) {
  console.error('usage: node validate.mjs TRACE.jsonl');
  process.exit(2);
}

const conns = new Map(); // conn -> { validator, pending: Map<"side id", action> }
let frames = 0;
let valid = 0;
let invalid = 0;
const t1 = process.hrtime.bigint();

const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
for await (const line of lines) {
  if (!line) continue;
  let rec;
  try {
    rec = JSON.parse(line);
  } catch {
    continue;
  }
  let c = conns.get(rec.conn);
  if (rec.event === 'open') {
    c = {
      validator: bySubprotocol.get(rec.subprotocol),
      ids: ids[rec.subprotocol],
      pending: new Map(),
    };
    conns.set(rec.conn, c);
    continue;
  }
  if (typeof rec.text !== 'string' || !c || !c.validator) continue;
  frames += 1;
  let msg;
  try {
    msg = JSON.parse(rec.text);
  } catch {
    invalid += 1;
    continue;
  }
  try {
    if (msg[0] === 2) {
      c.pending.set(rec.from + ' ' + msg[1], msg[2]);
      c.validator.validate(`urn:${msg[2]}${c.ids[0]}`, msg[3]);
    } else if (msg[0] === 3) {
      const caller = rec.from === 'charger' ? 'csms' : 'charger';
      const key = caller + ' ' + msg[1];
      const action = c.pending.get(key);
      c.pending.delete(key);
      if (action) c.validator.validate(`urn:${action}${c.ids[1]}`, msg[2]);
    }
    valid += 1;
  } catch {
    invalid += 1;
  }
}
const t2 = process.hrtime.bigint();
const secs = (a, b) => Number(b - a) / 1e9;
console.log(
  `frames=${frames} valid=${valid} invalid=${invalid} seconds=${secs(t0, t2).toFixed(3)} steady_seconds=${secs(t1, t2).toFixed(3)}`,
);
