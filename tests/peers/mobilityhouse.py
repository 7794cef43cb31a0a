"""Third-party peer for tests/third_party.rs: the `ocpp` library (mobilityhouse) from PyPI.

Modes:
  csms16                 an OCPP 1.6 CSMS on 127.0.0.1 (ephemeral port, printed as
                         `listening <port>`); after the charger's first transaction ends it
                         remote-starts a second one and remote-stops it once it runs.
  charger201 URL ID      an OCPP 2.0.1 charging station: boot, heartbeat, status, authorize,
                         a local transaction (Started, Updated with a meter value, Ended);
                         it answers the CSMS's RequestStart/StopTransaction only after its
                         own TransactionEvent has gone out (the answer crosses its own CALL).

Every wait is bounded; the process exits non-zero when the session does not complete.
The library validates every payload against the official schemas in both directions.
"""

import asyncio
import datetime
import sys

import websockets
from ocpp.routing import after, on


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- OCPP 1.6 CSMS -------------------------------------------------------------------------

def csms16_class():
    from ocpp.v16 import ChargePoint, call, call_result

    class Csms16(ChargePoint):
        tx_counter = 0
        remote_started = False

        @on("BootNotification")
        def on_boot(self, charge_point_vendor, charge_point_model, **_):
            return call_result.BootNotification(current_time=now(), interval=300, status="Accepted")

        @on("Heartbeat")
        def on_heartbeat(self):
            return call_result.Heartbeat(current_time=now())

        @on("StatusNotification")
        def on_status(self, connector_id, error_code, status, **_):
            return call_result.StatusNotification()

        @on("Authorize")
        def on_authorize(self, id_tag):
            return call_result.Authorize(id_tag_info={"status": "Accepted"})

        @on("StartTransaction")
        def on_start(self, connector_id, id_tag, meter_start, timestamp, **_):
            Csms16.tx_counter += 1
            return call_result.StartTransaction(
                transaction_id=Csms16.tx_counter, id_tag_info={"status": "Accepted"}
            )

        @after("StartTransaction")
        def after_start(self, connector_id, id_tag, **_):
            if id_tag == "REMOTE-TAG":
                asyncio.get_running_loop().create_task(self.remote_stop(Csms16.tx_counter))

        @on("MeterValues")
        def on_meter_values(self, connector_id, meter_value, **_):
            return call_result.MeterValues()

        @on("StopTransaction")
        def on_stop(self, meter_stop, timestamp, transaction_id, **_):
            return call_result.StopTransaction()

        @after("StopTransaction")
        def after_stop(self, **_):
            if not Csms16.remote_started:
                Csms16.remote_started = True
                asyncio.get_running_loop().create_task(self.remote_start())

        async def remote_start(self):
            await asyncio.sleep(0.2)
            await self.call(call.RemoteStartTransaction(id_tag="REMOTE-TAG", connector_id=1))

        async def remote_stop(self, tx):
            await asyncio.sleep(0.2)
            await self.call(call.RemoteStopTransaction(transaction_id=tx))

    return Csms16


async def run_csms16():
    cls = csms16_class()

    async def handler(websocket, path):
        station = cls(path.strip("/").split("/")[-1], websocket)
        try:
            await station.start()
        except websockets.exceptions.ConnectionClosed:
            pass

    server = await websockets.serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"])
    port = server.sockets[0].getsockname()[1]
    print(f"listening {port}", flush=True)
    # The test ends this process once the recording is checked; never run longer than this.
    await asyncio.sleep(120)


# --- OCPP 2.0.1 charging station -----------------------------------------------------------

def charger201_class():
    from ocpp.v201 import ChargePoint, call, call_result

    class Charger201(ChargePoint):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.seq = 0
            self.meter = 1000
            self.remote_tx = None
            self.done = asyncio.Event()

        def next_seq(self):
            self.seq += 1
            return self.seq - 1

        def meter_value(self, context):
            self.meter += 250
            return [{
                "timestamp": now(),
                "sampled_value": [{
                    "value": self.meter,
                    "context": context,
                    "measurand": "Energy.Active.Import.Register",
                    "unit_of_measure": {"unit": "Wh"},
                }],
            }]

        async def event(self, event_type, trigger, tx_id, **extra):
            if event_type == "Started":
                self.seq = 0  # each transaction numbers its events from 0
            await self.call(call.TransactionEvent(
                event_type=event_type,
                timestamp=now(),
                trigger_reason=trigger,
                seq_no=self.next_seq(),
                transaction_info={"transaction_id": tx_id, **extra.pop("info", {})},
                **extra,
            ))

        async def status(self, status):
            await self.call(call.StatusNotification(
                timestamp=now(), connector_status=status, evse_id=1, connector_id=1
            ))

        @on("RequestStartTransaction")
        async def on_request_start(self, id_token, remote_start_id, **_):
            self.remote_tx = "tx-remote-1"
            asyncio.get_running_loop().create_task(self.start_remote(id_token, remote_start_id))
            # The answer goes out after the TransactionEvent the task sends first.
            await asyncio.sleep(0.3)
            return call_result.RequestStartTransaction(status="Accepted", transaction_id=self.remote_tx)

        async def start_remote(self, id_token, remote_start_id):
            await self.event(
                "Started", "RemoteStart", self.remote_tx,
                info={"charging_state": "Charging", "remote_start_id": remote_start_id},
                id_token=id_token, evse={"id": 1, "connector_id": 1},
                meter_value=self.meter_value("Transaction.Begin"),
                number_of_phases_used=1,
            )

        @on("RequestStopTransaction")
        async def on_request_stop(self, transaction_id, **_):
            asyncio.get_running_loop().create_task(self.stop_remote(transaction_id))
            await asyncio.sleep(0.3)
            return call_result.RequestStopTransaction(status="Accepted")

        async def stop_remote(self, tx_id):
            await self.event(
                "Ended", "RemoteStop", tx_id,
                info={"charging_state": "EVConnected", "stopped_reason": "Remote"},
                meter_value=self.meter_value("Transaction.End"),
            )
            self.done.set()

        async def session(self):
            await self.call(call.BootNotification(
                charging_station={"model": "PeerPy", "vendor_name": "mobilityhouse-ocpp"},
                reason="PowerUp",
            ))
            await self.call(call.Heartbeat())
            await self.status("Available")
            tag = {"id_token": "TAG-201", "type": "ISO14443"}
            await self.call(call.Authorize(id_token=tag))
            await self.status("Occupied")
            await self.event(
                "Started", "Authorized", "tx-local-1",
                info={"charging_state": "Charging"},
                id_token=tag, evse={"id": 1, "connector_id": 1},
                meter_value=self.meter_value("Transaction.Begin"),
            )
            await self.event(
                "Updated", "MeterValuePeriodic", "tx-local-1",
                info={"charging_state": "Charging"},
                meter_value=self.meter_value("Sample.Periodic"),
                number_of_phases_used=1,
            )
            await self.event(
                "Ended", "StopAuthorized", "tx-local-1",
                info={"charging_state": "EVConnected", "stopped_reason": "Local"},
                meter_value=self.meter_value("Transaction.End"),
            )
            # The CSMS now remote-starts a transaction and remote-stops it.
            await asyncio.wait_for(self.done.wait(), timeout=20)
            await asyncio.sleep(0.3)

    return Charger201


async def run_charger201(url, identity):
    cls = charger201_class()
    async with websockets.connect(f"{url.rstrip('/')}/{identity}", subprotocols=["ocpp2.0.1"], open_timeout=10) as ws:
        station = cls(identity, ws)
        reader = asyncio.get_running_loop().create_task(station.start())
        await asyncio.wait_for(station.session(), timeout=40)
        reader.cancel()


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "csms16":
        asyncio.run(run_csms16())
    elif len(sys.argv) == 4 and sys.argv[1] == "charger201":
        asyncio.run(run_charger201(sys.argv[2], sys.argv[3]))
    else:
        sys.exit("usage: mobilityhouse.py csms16 | charger201 URL IDENTITY")


if __name__ == "__main__":
    main()
