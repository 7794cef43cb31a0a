// Third-party peer for tests/third_party.rs: `ocpp-rpc` from npm, in strict mode (every call
// and response is validated against the official schemas of the negotiated subprotocol).
//
// Modes:
//   charger16 URL ID   an OCPP 1.6 charge point: boot, heartbeat, statuses, authorize, a local
//                      transaction with a meter value; it handles the CSMS's remote start and
//                      remote stop by sending its own StartTransaction / StopTransaction first
//                      and answering Accepted only afterwards (the answer crosses its calls).
//   csms201            an OCPP 2.0.1 CSMS on 127.0.0.1 (ephemeral port, printed as
//                      `listening <port>`); after the station's first transaction ends it
//                      sends RequestStartTransaction, and RequestStopTransaction once the
//                      remote-started transaction runs.
//
// Every wait is bounded; the process exits non-zero when the session does not complete.

'use strict';

const { RPCClient, RPCServer } = require('ocpp-rpc');

const now = () => new Date().toISOString();
const within = (ms, what, promise) =>
    Promise.race([
        promise,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref()),
    ]);

async function charger16(url, identity) {
    const cli = new RPCClient({
        endpoint: url,
        identity,
        protocols: ['ocpp1.6'],
        strictMode: true,
        reconnect: false,
        callTimeoutMs: 10000,
    });
    cli.on('strictValidationFailure', (e) => {
        console.error('strict validation failure', e);
        process.exitCode = 3;
    });
    let meter = 5000;
    const status = (connectorId, s) =>
        cli.call('StatusNotification', { connectorId, errorCode: 'NoError', status: s, timestamp: now() });
    let stopped;
    const remoteStopped = new Promise((resolve) => { stopped = resolve; });

    cli.handle('RemoteStartTransaction', async ({ params }) => {
        await status(1, 'Preparing');
        await cli.call('StartTransaction', {
            connectorId: 1, idTag: params.idTag, meterStart: meter, timestamp: now(),
        });
        await status(1, 'Charging');
        return { status: 'Accepted' };
    });
    cli.handle('RemoteStopTransaction', async ({ params }) => {
        meter += 100;
        await cli.call('StopTransaction', {
            transactionId: params.transactionId, meterStop: meter, timestamp: now(), reason: 'Remote',
        });
        await status(1, 'Finishing');
        stopped();
        return { status: 'Accepted' };
    });

    await within(10000, 'connect', cli.connect());
    await cli.call('BootNotification', { chargePointVendor: 'ocpp-rpc', chargePointModel: 'PeerJs' });
    await cli.call('Heartbeat', {});
    await status(0, 'Available');
    await status(1, 'Available');
    await cli.call('Authorize', { idTag: 'TAG-16' });
    await status(1, 'Preparing');
    const started = await cli.call('StartTransaction', {
        connectorId: 1, idTag: 'TAG-16', meterStart: meter, timestamp: now(),
    });
    await status(1, 'Charging');
    meter += 250;
    await cli.call('MeterValues', {
        connectorId: 1,
        transactionId: started.transactionId,
        meterValue: [{
            timestamp: now(),
            sampledValue: [{ value: String(meter), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
        }],
    });
    meter += 250;
    await cli.call('StopTransaction', {
        transactionId: started.transactionId, meterStop: meter, timestamp: now(), reason: 'Local', idTag: 'TAG-16',
    });
    await status(1, 'Finishing');
    await status(1, 'Available');
    // The CSMS now remote-starts a transaction and remote-stops it.
    await within(20000, 'remote start and stop', remoteStopped);
    await new Promise((r) => setTimeout(r, 300));
    await status(1, 'Available');
    await cli.close({ code: 1000, awaitPending: true });
}

async function csms201() {
    const server = new RPCServer({ protocols: ['ocpp2.0.1'], strictMode: true, callTimeoutMs: 10000 });
    server.on('client', (client) => {
        client.on('strictValidationFailure', (e) => {
            console.error('strict validation failure', e);
            process.exitCode = 3;
        });
        let remoteStarted = false;
        client.handle('BootNotification', () => ({ currentTime: now(), interval: 300, status: 'Accepted' }));
        client.handle('Heartbeat', () => ({ currentTime: now() }));
        client.handle('StatusNotification', () => ({}));
        client.handle('Authorize', () => ({ idTokenInfo: { status: 'Accepted' } }));
        client.handle('TransactionEvent', ({ params }) => {
            const tx = params.transactionInfo.transactionId;
            if (params.eventType === 'Ended' && !remoteStarted) {
                remoteStarted = true;
                setTimeout(() => {
                    client.call('RequestStartTransaction', {
                        idToken: { idToken: 'REMOTE-TAG', type: 'ISO14443' }, remoteStartId: 7, evseId: 1,
                    }).catch((e) => console.error('RequestStartTransaction failed', e));
                }, 200);
            }
            if (params.eventType === 'Started' && params.triggerReason === 'RemoteStart') {
                setTimeout(() => {
                    client.call('RequestStopTransaction', { transactionId: tx })
                        .catch((e) => console.error('RequestStopTransaction failed', e));
                }, 200);
            }
            return params.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {};
        });
    });
    const http = await server.listen(0, '127.0.0.1');
    console.log(`listening ${http.address().port}`);
    // The test ends this process once the recording is checked; never run longer than this.
    setTimeout(() => process.exit(0), 120000);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'charger16' && args.length === 2) {
    charger16(args[0], args[1]).catch((e) => { console.error(e); process.exit(1); });
} else if (mode === 'csms201') {
    csms201().catch((e) => { console.error(e); process.exit(1); });
} else {
    console.error('usage: ocpp_rpc.js charger16 URL IDENTITY | csms201');
    process.exit(2);
}
