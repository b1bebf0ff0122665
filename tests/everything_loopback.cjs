// Preload (NODE_OPTIONS="--require <this file>") for tests/test_interop_everything.py.
//
// The everything server calls app.listen(PORT) with no host, i.e. on every interface: here a
// TCP listen() without a host binds 127.0.0.1 instead. Each TCP server that starts listening
// is reported on stderr as "mcplite-listening <address> <port>", so the test can start the
// server with PORT=0 and learn the port the system gave it (no race for a "free" port).
'use strict';
const net = require('net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback])
    if (typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1');
  } else if (first && typeof first === 'object' && first.path === undefined && first.fd === undefined &&
             first.handle === undefined && first._handle === undefined) {
    // listen({port, host, ...}[, callback])
    if (!first.host) args[0] = Object.assign({}, first, { host: '127.0.0.1' });
  } else if (args.length === 0 || typeof first === 'function') {
    // listen([callback]): a random port
    args.unshift(0, '127.0.0.1');
  }
  this.once('listening', () => {
    const address = this.address();
    if (address && typeof address === 'object') {
      process.stderr.write('mcplite-listening ' + address.address + ' ' + address.port + '\n');
    }
  });
  return listen.apply(this, args);
};
