// Loaded into the conformance harness with `node --require`: keeps every TCP server it
// starts on 127.0.0.1. Its mock servers call listen() without a host, which Node takes to
// mean every interface; CI machines must not expose them.
//
// The harness reads server.address().port right after listen(0). Given a host, Node
// resolves it with dns.lookup before binding, asynchronously, and address() would still be
// null; so the lookup of the literal 127.0.0.1 answers at once.
'use strict';
const dns = require('dns');
const net = require('net');

const LOOPBACK = '127.0.0.1';
const systemLookup = dns.lookup;
dns.lookup = function loopbackLookup(hostname, options, callback) {
  if (hostname !== LOOPBACK) return systemLookup.apply(this, arguments);
  const done = typeof options === 'function' ? options : callback;
  const wantsAll = typeof options === 'object' && options !== null && options.all;
  if (wantsAll) done(null, [{ address: LOOPBACK, family: 4 }]);
  else done(null, LOOPBACK, 4);
  return {};
};

function withLoopbackHost(args) {
  const first = args[0];
  if (args.length === 0 || typeof first === 'function') return [0, LOOPBACK, ...args];
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return typeof args[1] === 'string' ? args : [first, LOOPBACK, ...args.slice(1)];
  }
  if (first && typeof first === 'object') {
    const bindsSocket = first.host || first.path !== undefined || first.fd !== undefined ||
      first.handle !== undefined || first._handle !== undefined;
    return bindsSocket ? args : [Object.assign({}, first, { host: LOOPBACK }), ...args.slice(1)];
  }
  return args;
}

const systemListen = net.Server.prototype.listen;
net.Server.prototype.listen = function loopbackListen(...args) {
  return systemListen.apply(this, withLoopbackHost(args));
};
