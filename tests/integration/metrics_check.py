"""Scrapes and checks uscstd's Prometheus metrics (metrics.sh).

  metrics_check.py scrape PORT OUT
      GET http://127.0.0.1:PORT/metrics into OUT; fails unless 200 with
      the text format's content type.
  metrics_check.py expect SCRAPE LEVEL LABELS EXPECT...
      the series of LEVEL (device, target, session, lun, nexus) whose
      labels include LABELS (k=v;k=v) have grown by the sum of the
      EXPECT files' "expect KEY VALUE" lines (metrics_io's output) since
      zero; outstanding_commands is 0.
  metrics_check.py same OLD NEW LEVEL LABELS
      every series of LEVEL with LABELS has the same value in both.
  metrics_check.py monotonic OLD NEW
      no counter, histogram bucket, _sum or _count of OLD is smaller in
      NEW (series missing from NEW are the sessions and nexuses gone).
  metrics_check.py absent SCRAPE LEVEL LABELS
      no series of LEVEL with LABELS.
  metrics_check.py watch PORT PID INITIATOR OLD READY
      scrapes over and over while process PID runs: no counter of any
      scrape (the first: of OLD) is smaller than in the one before;
      creates file READY after the first scrape; prints how many scrapes
      saw a session of INITIATOR and fails unless at least 3 did.
  metrics_check.py rpc SOCKET SCRAPE TARGET
      the management RPC's tree (tree.get on SOCKET) shows, in the stats
      of every device, of TARGET, its target LUNs, sessions and session
      LUNs, the same counts as SCRAPE (taken with no I/O in between).
  metrics_check.py status PORT EXPECTED_STATUS REQUEST_BYTES
      sends REQUEST_BYTES (Python escapes: \\r\\n) raw, checks the status.
Exit status 1 with a line saying what differs.
"""
import re
import socket
import sys
import urllib.request

SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def fail(msg):
    print('metrics_check: FAILED: ' + msg)
    sys.exit(1)


def parse(path):
    """{(name, frozenset(labels)): value} and {name: type}."""
    series, types = {}, {}
    for line in open(path):
        line = line.rstrip('\n')
        if line.startswith('# TYPE '):
            _, _, name, typ = line.split(' ', 3)
            types[name] = typ
            continue
        if not line or line.startswith('#'):
            continue
        m = SERIES.match(line)
        if not m:
            fail('%s: not a sample line: %r' % (path, line))
        labels = frozenset(LABEL.findall(m.group(3) or ''))
        series[(m.group(1), labels)] = float(m.group(4))
    return series, types


def want_labels(spec):
    return set(tuple(kv.split('=', 1)) for kv in spec.split(';') if kv)


def pick(series, level, spec, name, extra=None):
    """Values of uscst_LEVEL_NAME series with the labels of spec (and
    extra), summed over the other labels."""
    full = 'uscst_%s_%s' % (level, name)
    want = want_labels(spec) | set(extra or {})
    found = [v for (n, labels), v in series.items() if n == full and want <= labels]
    return sum(found), len(found)


def expect(argv):
    scrape, level, spec = argv[0], argv[1], argv[2]
    series, _ = parse(scrape)
    want = {}
    for path in argv[3:]:
        for line in open(path):
            parts = line.split()
            if len(parts) == 3 and parts[0] == 'expect':
                want[parts[1]] = want.get(parts[1], 0) + int(parts[2])
    if not want:
        fail('no expect lines in %s' % ' '.join(argv[3:]))
    for key, value in sorted(want.items()):
        if key.startswith('commands_'):
            got = pick(series, level, spec, 'commands_total', {('dir', key[9:])})
        elif key == 'read_bytes':
            got = pick(series, level, spec, 'read_bytes_total')
        elif key == 'written_bytes':
            got = pick(series, level, spec, 'written_bytes_total')
        elif key.startswith('check_'):
            got = pick(series, level, spec, 'check_conditions_total', {('sense_key', key[6:])})
        elif key.startswith('tmf_'):
            got = pick(series, level, spec, 'task_management_functions_total',
                       {('function', key[4:])})
        elif key == 'latency_count':
            got = pick(series, level, spec, 'command_latency_seconds_count')
        else:
            fail('unknown expectation %s' % key)
        if got[1] == 0:
            fail('%s %s: no series for %s' % (level, spec, key))
        if got[0] != value:
            fail('%s %s: %s is %g, expected %d' % (level, spec, key, got[0], value))
        print('metrics_check: %s %s: %s = %d' % (level, spec, key, value))
    out = pick(series, level, spec, 'outstanding_commands')
    if out[1] == 0 or out[0] != 0:
        fail('%s %s: outstanding_commands %s' % (level, spec, out))
    # The histogram's +Inf bucket is its count, per direction.
    for (n, labels), v in series.items():
        if n == 'uscst_%s_command_latency_seconds_count' % level and \
                want_labels(spec) <= labels:
            inf = series.get(('uscst_%s_command_latency_seconds_bucket' % level,
                              labels | {('le', '+Inf')}))
            if inf != v:
                fail('%s: +Inf bucket %s, count %s' % (dict(labels), inf, v))


def same(argv):
    old, _ = parse(argv[0])
    new, _ = parse(argv[1])
    prefix = 'uscst_%s_' % argv[2]
    want = want_labels(argv[3])
    n = 0
    for key, v in old.items():
        if not key[0].startswith(prefix) or not want <= key[1]:
            continue
        n += 1
        if new.get(key) != v:
            fail('%s%s: %s before, %s after' % (key[0], dict(key[1]), v, new.get(key)))
    if n == 0:
        fail('no series %s with %s' % (prefix, argv[3]))
    print('metrics_check: %d series of %s %s unchanged' % (n, argv[2], argv[3]))


def monotonic(argv):
    old, types = parse(argv[0])
    new, _ = parse(argv[1])
    n = compare(old, types, new)
    print('metrics_check: %d series, none went backwards' % n)


def compare(old, types, new):
    n = 0
    for key, v in old.items():
        base = re.sub(r'_(bucket|sum|count)$', '', key[0])
        if types.get(key[0]) == 'gauge' or key not in new:
            continue
        if types.get(key[0]) != 'counter' and types.get(base) != 'histogram':
            fail('%s has no counter or histogram TYPE' % key[0])
        n += 1
        if new[key] < v:
            fail('%s%s went backwards: %s -> %s' % (key[0], dict(key[1]), v, new[key]))
    return n


def watch(argv):
    import os
    port, pid, initiator = argv[0], int(argv[1]), argv[2]
    prev, types = parse(argv[3])
    scrapes = live = 0
    tmp = argv[3] + '.watch'
    while os.path.exists('/proc/%d' % pid):
        scrape([port, tmp])
        cur, _ = parse(tmp)
        compare(prev, types, cur)
        scrapes += 1
        if scrapes == 1:
            open(argv[4], 'w').close()
        if any(k[0] == 'uscst_session_commands_total' and ('initiator', initiator) in k[1]
               for k in cur):
            live += 1
        prev = cur
    print('metrics_check: %d scrapes while process %d ran, %d with a session of %s; none went '
          'backwards' % (scrapes, pid, live, initiator))
    if live < 3:
        fail('only %d scrapes saw the session' % live)


def absent(argv):
    series, _ = parse(argv[0])
    got = [k for k in series if k[0].startswith('uscst_%s_' % argv[1]) and
           want_labels(argv[2]) <= k[1]]
    if got:
        fail('%d series of %s %s still there, e.g. %s' % (len(got), argv[1], argv[2], got[0]))
    print('metrics_check: no series of %s %s' % (argv[1], argv[2]))


def scrape(argv):
    with urllib.request.urlopen('http://127.0.0.1:%s/metrics' % argv[0], timeout=10) as r:
        if r.status != 200:
            fail('status %d' % r.status)
        ctype = r.headers.get('Content-Type', '')
        if not ctype.startswith('text/plain; version=0.0.4'):
            fail('Content-Type %r' % ctype)
        open(argv[1], 'wb').write(r.read())


def status(argv):
    s = socket.create_connection(('127.0.0.1', int(argv[0])), timeout=10)
    s.sendall(argv[2].encode().decode('unicode_escape').encode('latin-1'))
    data = b''
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    line = data.split(b'\r\n', 1)[0].decode('latin-1')
    if not line.startswith('HTTP/1.1 %s ' % argv[1]):
        fail('%r answered %r, expected %s' % (argv[2], line, argv[1]))
    print('metrics_check: %r -> %s' % (argv[2][:40], line))


def rpc_tree(path):
    import json
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(path)
    s.sendall(json.dumps({'jsonrpc': '2.0', 'id': 1, 'method': 'tree.get',
                          'params': {}}).encode() + b'\n')
    data = b''
    while not data.endswith(b'\n'):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    s.close()
    resp = json.loads(data)
    if 'result' not in resp:
        fail('tree.get: %s' % resp)
    return resp['result']


def same_counts(series, level, spec, stats):
    """The JSON stats node and the scrape's series of one object agree."""
    pairs = [('commands_total', {('dir', d)}, stats['commands'][d])
             for d in ('read', 'write', 'other')]
    pairs += [('read_bytes_total', None, stats['bytes_read']),
              ('written_bytes_total', None, stats['bytes_written']),
              ('aborted_commands_total', None, stats['aborted']),
              ('outstanding_commands', None, stats['outstanding']),
              ('command_latency_seconds_count', None,
               sum(stats['latency'][d]['count'] for d in ('read', 'write', 'other')))]
    for family, label, node in (('check_conditions_total', 'sense_key', 'check_conditions'),
                                ('error_statuses_total', 'status', 'error_statuses'),
                                ('task_management_functions_total', 'function',
                                 'task_management')):
        full = 'uscst_%s_%s' % (level, family)
        names = set(stats[node]) | set(dict(k[1]).get(label) for k in series
                                       if k[0] == full and want_labels(spec) <= k[1])
        pairs += [(family, {(label, n)}, stats[node].get(n, 0)) for n in names if n]
    for family, extra, want in pairs:
        got, found = pick(series, level, spec, family, extra)
        if found == 0 and want == 0 and extra and next(iter(extra))[0] != 'dir':
            continue  # a zero the text leaves out
        if found == 0 or got != want:
            fail('%s %s %s %s: RPC %s, Prometheus %s' % (level, spec, family, extra, want,
                                                         got if found else 'no series'))
    return len(pairs)


def rpc(argv):
    tree = rpc_tree(argv[0])
    series, _ = parse(argv[1])
    target = argv[2]
    n = objects = 0
    for name, dev in tree['devices'].items():
        n += same_counts(series, 'device', 'device=%s' % name, dev['stats'])
        objects += 1
    t = tree['targets']['iscsi']['targets'][target]
    spec = 'target=%s' % target
    n += same_counts(series, 'target', spec, t['stats'])
    objects += 1
    for e in t['lun_stats']:
        n += same_counts(series, 'lun', '%s;lun=%d;device=%s' % (spec, e['lun'], e['device']),
                         e['stats'])
        objects += 1
    for sname, sess in t['sessions'].items():
        sspec = '%s;session=%s' % (spec, sname)
        n += same_counts(series, 'session', sspec, sess['stats'])
        objects += 1
        for lun, l in sess['luns'].items():
            n += same_counts(series, 'nexus', '%s;lun=%s;device=%s' % (sspec, lun, l['device']),
                             l['stats'])
            objects += 1
    print('metrics_check: the RPC tree and the scrape agree on %d counters of %d objects' %
          (n, objects))


commands = {'scrape': scrape, 'expect': expect, 'same': same, 'monotonic': monotonic,
            'absent': absent, 'status': status, 'watch': watch, 'rpc': rpc}
if len(sys.argv) < 2 or sys.argv[1] not in commands:
    print(__doc__)
    sys.exit(2)
commands[sys.argv[1]](sys.argv[2:])
