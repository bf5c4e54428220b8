#!/usr/bin/python3
# uscstadmin's command line -> the JSON-RPC requests it sends, and its
# output, against a fake uscstd: a Unix socket in a temporary directory
# that records every request and answers from a canned tree (the shape of
# docs/rpc.md's tree.get). No daemon runs here; the integration test
# (tests/integration/mgmt_admin.sh) runs the same verbs against uscstd.
#
#   python3 test_uscstadmin.py PATH_TO_USCSTADMIN

import copy
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

ADMIN = None

T = 'iqn.2026-11.org.example:t1'
SESSION = 'iqn.1994-05.com.redhat:host1,i,0x23d000000001'


def attr(value, default=None, changeable=False, key=None):
    return {'value': value, 'type': 'string', 'default': default,
            'changeable': changeable,
            'key': (value != default) if key is None else key}


TREE = {
    'handlers': {
        'vdisk_fileio': {'type': 0, 'type_name': 'disk', 'devices': ['disk1', 'disk3']},
        'vdisk_nullio': {'type': 0, 'type_name': 'disk', 'devices': []},
    },
    'devices': {
        'disk1': {'handler': 'vdisk_fileio',
                  'attributes': {'filename': attr('/img/disk1.img'),
                                 'blocksize': attr('512', '512'),
                                 't10_vend_id': attr('USCST', 'USCST', changeable=True),
                                 'read_only': attr('0', '0')},
                  'exported': [{'driver': 'iscsi', 'target': T, 'group': None, 'lun': 0},
                               {'driver': 'iscsi', 'target': T, 'group': 'G1', 'lun': 3}]},
        'disk3': {'handler': 'vdisk_fileio',
                  'attributes': {'filename': attr('/img/disk3.img')},
                  'exported': []},
    },
    'targets': {
        'iscsi': {
            'attributes': {'enabled': attr('1', '1'),
                           'IncomingUser': attr(['joe'], None)},
            'targets': {
                T: {
                    'attributes': {'enabled': attr('1', '0', changeable=True),
                                   'rel_tgt_id': attr('1', None),
                                   'QueuedCommands': attr('32', '32')},
                    'luns': {'0': {'device': 'disk1', 'attributes': {'read_only': attr('0', '0')}},
                             '10': {'device': 'disk3', 'attributes': {'read_only': attr('1', '0')}}},
                    'ini_groups': {
                        'G1': {'attributes': {},
                               'luns': {'3': {'device': 'disk1', 'attributes': {}}},
                               'initiators': ['iqn.1994-05.com.redhat:*']},
                        'empty': {'attributes': {}, 'luns': {}, 'initiators': []},
                    },
                    'sessions': {
                        SESSION: {'initiator': 'iqn.1994-05.com.redhat:host1', 'group': None,
                                  'luns': {'0': {'device': 'disk1', 'read_only': False}},
                                  'stats': {'received': 12, 'outstanding': 1,
                                            'commands': {'read': 8, 'write': 3, 'other': 1},
                                            'bytes_read': 8192, 'bytes_written': 3072,
                                            'check_conditions': {'UNIT_ATTENTION': 2},
                                            'latency': {'read': {'count': 8}}}},
                    },
                },
                'iqn.2026-11.org.example:t2': {
                    'attributes': {'enabled': attr('0', '0', changeable=True)},
                    'luns': {}, 'ini_groups': {}, 'sessions': {},
                },
            },
        },
    },
    'device_groups': {},
}


class FakeDaemon:
    """A Unix socket that answers JSON-RPC requests one connection at a
    time, recording each request. `errors` maps a method to the error it
    answers with; everything else is answered from the canned tree."""

    def __init__(self, path):
        self.path = path
        self.requests = []
        self.errors = {}
        self.results = {}
        self.tree = copy.deepcopy(TREE)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                buf = b''
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    while b'\n' in buf:
                        line, buf = buf.split(b'\n', 1)
                        if line.strip():
                            conn.sendall(json.dumps(self._answer(json.loads(line))).encode() + b'\n')

    def _answer(self, req):
        self.requests.append(req)
        method = req.get('method')
        reply = {'jsonrpc': '2.0', 'id': req.get('id')}
        if method in self.errors:
            code, message = self.errors[method]
            reply['error'] = {'code': code, 'message': message, 'data': {'method': method}}
        elif method == 'tree.get':
            reply['result'] = self.tree
        elif method in self.results:
            reply['result'] = self.results[method]
        elif method == 'config.write':
            reply['result'] = {'text': 'HANDLER vdisk_fileio {\n}\n'}
        elif method == 'config.apply':
            reply['result'] = {'steps': ['lun.add iscsi/%s lun 1 disk3' % T,
                                         'device.close disk9']}
        else:
            reply['result'] = {}
        return reply

    def close(self):
        self.sock.close()


class AdminTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.daemon = FakeDaemon(os.path.join(self.dir.name, 'uscstd.sock'))

    def tearDown(self):
        self.daemon.close()
        self.dir.cleanup()

    def run_admin(self, *args, stdin=''):
        proc = subprocess.run([sys.executable, ADMIN, '--rpc-socket', self.daemon.path] + list(args),
                              input=stdin, capture_output=True, text=True, timeout=30)
        return proc.returncode, proc.stdout, proc.stderr

    def changes(self):
        """The requests after the tree.get every run starts with, as
        (method, params)."""
        return [(r['method'], r['params']) for r in self.daemon.requests if r['method'] != 'tree.get']

    def assert_sends(self, args, expected, stdin=''):
        rc, out, err = self.run_admin(*args, stdin=stdin)
        self.assertEqual(rc, 0, 'exit %d\nstdout:\n%s\nstderr:\n%s' % (rc, out, err))
        self.assertEqual(self.changes(), expected)
        for r in self.daemon.requests:
            self.assertEqual(r['jsonrpc'], '2.0')
            self.assertIsInstance(r['id'], int)
            self.assertIsInstance(r['params'], dict)
        return out

    # Devices.

    def test_open_dev(self):
        out = self.assert_sends(
            ['-open_dev', 'disk2', '-handler', 'vdisk_fileio',
             '-attributes', 'filename=/img/d2.img,nv_cache=1,read_only'],
            [('device.open', {'device': 'disk2', 'handler': 'vdisk_fileio',
                              'attributes': {'filename': '/img/d2.img', 'nv_cache': '1',
                                             'read_only': '1'}})])
        self.assertIn("\t-> Opening device 'disk2' using handler 'vdisk_fileio': done.\n", out)
        self.assertTrue(out.rstrip().endswith('All done.'))

    def test_open_dev_needs_handler(self):
        rc, out, err = self.run_admin('-open_dev', 'disk2')
        self.assertEqual(rc, 1)
        self.assertIn('Please specify -handler with -open_dev/-close_dev.', err)
        self.assertEqual(self.daemon.requests, [])

    def test_close_dev(self):
        self.assert_sends(['-close_dev', 'disk3', '-handler', 'vdisk_fileio', '-noprompt'],
                          [('device.close', {'device': 'disk3'})])

    def test_close_dev_in_use_refused(self):
        rc, out, err = self.run_admin('-close_dev', 'disk1', '-handler', 'vdisk_fileio', '-noprompt')
        self.assertEqual(rc, 1)
        self.assertIn("Device 'disk1' is currently in use by the following:", out)
        self.assertRegex(out, r'\tiscsi +%s +G1 +3' % T)
        self.assertIn("Device 'disk1' still in use, aborting. Use -force to override.", err)
        self.assertEqual(self.changes(), [])

    def test_close_dev_force_unmaps_first(self):
        self.assert_sends(
            ['-close_dev', 'disk1', '-force', '-noprompt'],
            [('lun.remove', {'driver': 'iscsi', 'target': T, 'lun': 0}),
             ('lun.remove', {'driver': 'iscsi', 'target': T, 'group': 'G1', 'lun': 3}),
             ('device.close', {'device': 'disk1'})])

    def test_resync_dev(self):
        self.assert_sends(['-resync_dev', 'disk1'],
                          [('device.resync_size', {'device': 'disk1'})])

    def test_eject_dev(self):
        self.assert_sends(['-eject_dev', 'disk1'], [('device.eject', {'device': 'disk1'})])

    def test_load_dev(self):
        self.assert_sends(['-load_dev', 'disk1'], [('device.load', {'device': 'disk1'})])

    # Targets.

    def test_add_and_remove_target(self):
        self.assert_sends(['-add_target', 'iqn.x:new', '-driver', 'iscsi',
                           '-attributes', 'QueuedCommands=64'],
                          [('target.add', {'driver': 'iscsi', 'target': 'iqn.x:new',
                                           'attributes': {'QueuedCommands': '64'}})])
        self.daemon.requests.clear()
        self.assert_sends(['-rem_target', 'iqn.x:new', '-driver', 'iscsi', '-noprompt'],
                          [('target.remove', {'driver': 'iscsi', 'target': 'iqn.x:new'})])

    def test_enable_disable(self):
        out = self.assert_sends(['-enable_target', T, '-driver', 'iscsi'],
                                [('target.enable', {'driver': 'iscsi', 'target': T})])
        self.assertIn("\t-> Enabling driver/target 'iscsi/%s': done." % T, out)
        self.daemon.requests.clear()
        self.assert_sends(['-disable_target', T, '-driver', 'iscsi', '-noprompt'],
                          [('target.disable', {'driver': 'iscsi', 'target': T})])

    # LUNs.

    def test_add_lun(self):
        out = self.assert_sends(
            ['-add_lun', '1', '-driver', 'iscsi', '-target', T, '-group', 'G1',
             '-device', 'disk3', '-attributes', 'read_only=1'],
            [('lun.add', {'driver': 'iscsi', 'target': T, 'group': 'G1', 'lun': 1,
                          'device': 'disk3', 'attributes': {'read_only': '1'}})])
        self.assertIn("\t-> Adding device 'disk3' at LUN 1 to driver/target/group "
                      "'iscsi/%s/G1': done." % T, out)

    def test_add_lun_double_dash_and_equals(self):
        self.assert_sends(['--add_lun=2', '--driver=iscsi', '--target', T, '-dev', 'disk3'],
                          [('lun.add', {'driver': 'iscsi', 'target': T, 'lun': 2,
                                        'device': 'disk3'})])

    def test_rem_replace_clear_luns(self):
        self.assert_sends(['-rem_lun', '10', '-driver', 'iscsi', '-target', T, '-noprompt'],
                          [('lun.remove', {'driver': 'iscsi', 'target': T, 'lun': 10})])
        self.daemon.requests.clear()
        self.assert_sends(['-replace_lun', '0', '-driver', 'iscsi', '-target', T,
                           '-device', 'disk3', '-noprompt'],
                          [('lun.replace', {'driver': 'iscsi', 'target': T, 'lun': 0,
                                            'device': 'disk3'})])
        self.daemon.requests.clear()
        self.assert_sends(['-clear_luns', '-driver', 'iscsi', '-target', T, '-group', 'G1',
                           '-noprompt'],
                          [('lun.clear', {'driver': 'iscsi', 'target': T, 'group': 'G1'})])

    def test_prompt_refused_sends_nothing(self):
        rc, out, _ = self.run_admin('-rem_lun', '0', '-driver', 'iscsi', '-target', T, stdin='n\n')
        self.assertEqual(rc, 1)
        self.assertIn('Aborting action.', out)
        self.assertEqual(self.changes(), [])
        self.daemon.requests.clear()
        self.assert_sends(['-rem_lun', '0', '-driver', 'iscsi', '-target', T],
                          [('lun.remove', {'driver': 'iscsi', 'target': T, 'lun': 0})],
                          stdin='yes\n')

    def test_lun_must_be_a_number(self):
        rc, _, err = self.run_admin('-add_lun', 'one', '-driver', 'iscsi', '-target', T,
                                    '-device', 'disk3')
        self.assertEqual(rc, 1)
        self.assertIn("LUN 'one' is not a number.", err)
        self.assertEqual(self.daemon.requests, [])

    # Groups and initiators.

    def test_groups(self):
        self.assert_sends(['-add_group', 'G2', '-driver', 'iscsi', '-target', T],
                          [('group.add', {'driver': 'iscsi', 'target': T, 'group': 'G2'})])
        self.daemon.requests.clear()
        self.assert_sends(['-rem_group', 'empty', '-driver', 'iscsi', '-target', T, '-noprompt'],
                          [('group.remove', {'driver': 'iscsi', 'target': T, 'group': 'empty'})])

    def test_rem_group_in_use(self):
        rc, out, err = self.run_admin('-rem_group', 'G1', '-driver', 'iscsi', '-target', T,
                                      '-noprompt')
        self.assertEqual(rc, 1)
        self.assertIn('Group is still in use, aborting. Use -force to override.', err)
        self.assertIn('Assigned Initiators:', out)
        self.assertEqual(self.changes(), [])

    def test_initiators(self):
        base = {'driver': 'iscsi', 'target': T, 'group': 'G1'}
        self.assert_sends(['-add_init', 'iqn.x:a', '-driver', 'iscsi', '-target', T, '-group', 'G1'],
                          [('initiator.add', dict(base, initiator='iqn.x:a'))])
        self.daemon.requests.clear()
        self.assert_sends(['-rem_init', 'iqn.x:a', '-driver', 'iscsi', '-target', T, '-group', 'G1',
                           '-noprompt'],
                          [('initiator.remove', dict(base, initiator='iqn.x:a'))])
        self.daemon.requests.clear()
        self.assert_sends(['-move_init', 'iqn.1994-05.com.redhat:*', '-driver', 'iscsi',
                           '-target', T, '-group', 'G1', '-to', 'empty', '-noprompt'],
                          [('initiator.move', dict(base, to='empty',
                                                   initiator='iqn.1994-05.com.redhat:*'))])
        self.daemon.requests.clear()
        self.assert_sends(['-clear_inits', '-driver', 'iscsi', '-target', T, '-group', 'G1',
                           '-noprompt'],
                          [('initiator.clear', base)])

    def test_add_init_already_there(self):
        out = self.assert_sends(['-add_init', 'iqn.1994-05.com.redhat:*', '-driver', 'iscsi',
                                 '-target', T, '-group', 'empty'], [])
        self.assertIn("already belongs to group 'G1'", out)

    def test_move_init_needs_to(self):
        rc, _, err = self.run_admin('-move_init', 'x', '-driver', 'iscsi', '-target', T,
                                    '-group', 'G1')
        self.assertEqual(rc, 1)
        self.assertIn('Please specify -driver -target -group and -to with -move_init.', err)

    # Attributes.

    def test_set_dev_attr(self):
        out = self.assert_sends(['-set_dev_attr', 'disk1', '-attributes', 't10_vend_id=ACME',
                                 '-noprompt'],
                                [('device.set_attr', {'device': 'disk1',
                                                      'attributes': {'t10_vend_id': 'ACME'}})])
        self.assertIn("\t-> Setting device attribute 't10_vend_id' to value 'ACME' for device "
                      "'disk1': done.", out)
        self.assertIn('\t-> Done, 1 change(s) made.', out)

    def test_set_dev_attr_already_set_and_unknown(self):
        out = self.assert_sends(['-set_dev_attr', 'disk1', '-attributes',
                                 't10_vend_id=USCST,colour=red', '-noprompt'], [])
        self.assertIn("Attribute 't10_vend_id' already set to value 'USCST', ignoring.", out)
        self.assertIn("Device 'disk1' lacks the settable attribute 'colour', ignoring.", out)
        self.assertIn('\t-> Done, 0 change(s) made.', out)

    def test_set_tgt_grp_drv_attr(self):
        self.assert_sends(['-set_tgt_attr', T, '-driver', 'iscsi', '-attributes', 'enabled=0',
                           '-noprompt'],
                          [('target.set_attr', {'driver': 'iscsi', 'target': T,
                                                'attributes': {'enabled': '0'}})])
        self.daemon.requests.clear()
        self.daemon.tree['targets']['iscsi']['targets'][T]['ini_groups']['G1']['attributes'] = {
            'x': attr('1', '0')}
        self.assert_sends(['-set_grp_attr', 'G1', '-driver', 'iscsi', '-target', T,
                           '-attributes', 'x=2', '-noprompt'],
                          [('group.set_attr', {'driver': 'iscsi', 'target': T, 'group': 'G1',
                                               'attributes': {'x': '2'}})])
        self.daemon.requests.clear()
        self.assert_sends(['-set_drv_attr', 'iscsi', '-attributes',
                           'IncomingUser=joe 12charsecret1,IncomingUser=ann 12charsecret2',
                           '-noprompt'],
                          [('driver.set_attr', {'driver': 'iscsi', 'attributes': {
                              'IncomingUser': ['joe 12charsecret1', 'ann 12charsecret2']}})])

    def test_escaped_comma(self):
        self.assert_sends(['-add_target', 'iqn.x:d', '-driver', 'iscsi', '-attributes',
                           'HeaderDigest=CRC32C\\,None'],
                          [('target.add', {'driver': 'iscsi', 'target': 'iqn.x:d',
                                           'attributes': {'HeaderDigest': 'CRC32C,None'}})])

    # Sessions.

    def test_close_session_by_initiator(self):
        self.assert_sends(['-close_session', 'iqn.1994-05.com.redhat:host1', '-driver', 'iscsi',
                           '-noprompt'],
                          [('session.close', {'driver': 'iscsi', 'target': T,
                                              'session': SESSION})])

    def test_close_session_by_name(self):
        self.assert_sends(['-close_session', '-driver', 'iscsi', '-target', T,
                           '-session', SESSION, '-noprompt'],
                          [('session.close', {'driver': 'iscsi', 'target': T,
                                              'session': SESSION})])

    def test_close_session_unknown(self):
        rc, _, err = self.run_admin('-close_session', 'iqn.nobody:x', '-driver', 'iscsi',
                                    '-noprompt')
        self.assertEqual(rc, 1)
        self.assertIn("No such session 'iqn.nobody:x'", err)
        self.assertEqual(self.changes(), [])

    # Whole configurations.

    def test_write_config(self):
        path = os.path.join(self.dir.name, 'out.conf')
        out = self.assert_sends(['-write_config', path], [('config.write', {})])
        with open(path) as f:
            self.assertEqual(f.read(), 'HANDLER vdisk_fileio {\n}\n')
        # It may hold CHAP secrets: a new file is 0600.
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertIn("Writing current configuration to file '%s'.." % path, out)
        self.daemon.requests.clear()
        out = self.assert_sends(['-write_config', '-', '-nonkey'],
                                [('config.write', {'nonkey': True})])
        self.assertEqual(out, 'HANDLER vdisk_fileio {\n}\n')

    def test_config_and_check_config(self):
        path = os.path.join(self.dir.name, 'in.conf')
        with open(path, 'w') as f:
            f.write('# a file\n')
        params = {'text': '# a file\n', 'filename': path}
        out = self.assert_sends(['-config', path],
                                [('config.apply', dict(params, check=True)),
                                 ('config.apply', params)])
        self.assertIn("\t-> lun.add iscsi/%s lun 1 disk3\n" % T, out)
        self.assertIn('\t-> Done, 2 change(s) made.', out)
        self.daemon.requests.clear()
        out = self.assert_sends(['-check_config', path],
                                [('config.apply', dict(params, check=True))])
        self.assertIn("-> Checking configuration file '%s' for errors." % path, out)

    def test_config_not_applied_is_not_counted(self):
        path = os.path.join(self.dir.name, 'in.conf')
        with open(path, 'w') as f:
            f.write('# a file\n')
        self.daemon.results['config.apply'] = {'steps': [
            'add TARGET_DRIVER iscsi / TARGET %s / LUN 1 disk3' % T,
            'change HANDLER vdisk_fileio / DEVICE disk1 blocksize: 512 -> 4096; not applied: '
            'fixed while the device exists'], 'applied': True}
        rc, out, err = self.run_admin('-config', path)
        self.assertEqual(rc, 0, err)
        self.assertIn('\t-> Done, 1 change(s) made.', out)
        self.assertIn('WARNING: 1 change(s) not applied', out)

    def test_config_refused(self):
        path = os.path.join(self.dir.name, 'bad.conf')
        with open(path, 'w') as f:
            f.write('BOGUS\n')
        self.daemon.errors['config.apply'] = (-32000, 'bad.conf:1: unknown section BOGUS')
        rc, out, err = self.run_admin('-config', path)
        self.assertEqual(rc, 1)
        self.assertIn('FATAL: Received the following error:', err)
        self.assertIn('bad.conf:1: unknown section BOGUS', err)
        # The check failed: the file was never applied.
        self.assertEqual([p.get('check') for m, p in self.changes()], [True])

    def test_clear_config(self):
        rc, _, err = self.run_admin('-clear_config', '-noprompt')
        self.assertEqual(rc, 1)
        self.assertIn('Please specify -force with -clear_config.', err)
        self.assertEqual(self.daemon.requests, [])
        self.assert_sends(['-clear_config', '-force', '-noprompt'], [('config.clear', {})])

    # Errors.

    def test_daemon_error_is_fatal(self):
        self.daemon.errors['lun.add'] = (-32000, 'LUN 0 of iscsi/%s is already used' % T)
        rc, out, err = self.run_admin('-add_lun', '0', '-driver', 'iscsi', '-target', T,
                                      '-device', 'disk3')
        self.assertEqual(rc, 1)
        self.assertIn(': failed.', out)
        self.assertIn('\tLUN 0 of iscsi/%s is already used\n' % T, err)
        self.assertNotIn('All done.', out)

    def test_argument_errors(self):
        for args, message in [
                (['-bogus'], 'Unknown option: bogus'),
                (['-list_device', '-list_target'], 'only one non-query operation'),
                ([], 'No valid operations specified.'),
                (['-list_'], 'is ambiguous'),
                (['-add_lun', '1', '-driver', 'iscsi', '-target', T], '-device'),
                (['-open_dev', 'd', '-handler', 'h', '--json'], '--json goes with a query'),
                (['-list_device', 'stray', 'words'], "Unexpected argument 'words'")]:
            rc, _, err = self.run_admin(*args)
            self.assertEqual(rc, 1, args)
            self.assertIn(message, err, args)
        self.assertEqual(self.daemon.requests, [])

    def test_no_daemon(self):
        rc, _, err = subprocess.run(
            [sys.executable, ADMIN, '--rpc-socket', os.path.join(self.dir.name, 'none'),
             '-list_device'], capture_output=True, text=True, timeout=30).returncode, None, None
        self.assertEqual(rc, 1)

    # Listings.

    def test_list_handler(self):
        out = self.assert_sends(['-list_handler'], [])
        self.assertIn('\tHandler\n\t------------\n\tvdisk_fileio\n\tvdisk_nullio\n', out)
        out = self.assert_sends(['-list_handler', 'vdisk_fileio'], [])
        self.assertIn('\tHandler          Device\n', out)
        self.assertIn('\tvdisk_fileio    disk1\n\t                disk3\n', out)

    def test_list_device(self):
        out = self.assert_sends(['-list_device'], [])
        self.assertIn('\tvdisk_nullio    -    \n', out)
        out = self.assert_sends(['-list_device', 'disk1'], [])
        # Key attributes only: filename differs from its default.
        self.assertRegex(out, r'\tAttribute +Value +Writable +KEY\n')
        self.assertRegex(out, r'\tfilename +/img/disk1.img +No +Yes *\n')
        self.assertNotIn('blocksize', out)
        out = self.assert_sends(['-list_dev_attr', 'disk1', '-nonkey'], [])
        self.assertRegex(out, r'\tblocksize +512 +No +No *\n')
        self.assertRegex(out, r'\tt10_vend_id +USCST +Yes +No *\n')

    def test_list_json(self):
        for args, subtree in [
                (['-list_dev_attr', 'disk1'], TREE['devices']['disk1']['attributes']),
                (['-list_device'], TREE['devices']),
                (['-list_handler'], TREE['handlers']),
                (['-list_tgt_attr', T, '-driver', 'iscsi'],
                 TREE['targets']['iscsi']['targets'][T]['attributes']),
                (['-list_drv_attr', 'iscsi'], TREE['targets']['iscsi']['attributes']),
                (['-list_target', T], TREE['targets']['iscsi']['targets'][T]),
                (['-list_sessions'], {'iscsi': {T: TREE['targets']['iscsi']['targets'][T]['sessions'],
                                                'iqn.2026-11.org.example:t2': {}}})]:
            rc, out, err = self.run_admin(*(args + ['--json']))
            self.assertEqual(rc, 0, err)
            self.assertEqual(json.loads(out), subtree, args)

    def test_list_target_and_group(self):
        out = self.assert_sends(['-list_target'], [])
        # scstadmin's widths: the driver column is as wide as the longest
        # driver name, which 'Driver' overflows.
        self.assertIn('\tDriver %s\n' % 'Target'.ljust(len(T)), out)
        self.assertIn('\tiscsi %s\n' % T, out)
        self.assertIn('\t      iqn.2026-11.org.example:t2\n', out)
        out = self.assert_sends(['-list_target', T, '-driver', 'iscsi'], [])
        self.assertIn('Driver: iscsi\nTarget: %s\n\nAssigned LUNs:\n\n' % T, out)
        # LUNs in numeric order, 0 before 10.
        self.assertRegex(out, r'\t0    disk1\n\t10   disk3\n')
        self.assertIn('Group: G1\n\nAssigned LUNs:\n', out)
        self.assertIn("Group 'empty' has no associated LUNs or initiators.", out)
        out = self.assert_sends(['-list_group', 'G1', '-driver', 'iscsi', '-target', T], [])
        self.assertIn('\tInitiator\n\t------------------------\n\tiqn.1994-05.com.redhat:*\n', out)

    def test_list_sessions(self):
        out = self.assert_sends(['-list_sessions'], [])
        self.assertIn('Driver/Target: iscsi/%s\n\n\tSession: %s\n' % (T, SESSION), out)
        self.assertRegex(out, r'\tLUN 0 +disk1 ')
        self.assertRegex(out, r'\tinitiator_name +iqn.1994-05.com.redhat:host1 ')
        self.assertRegex(out, r'\tread_io_count_kb +8 ')
        self.assertRegex(out, r'\twrite_cmd_count +3 ')
        self.assertRegex(out, r'\tcheck_conditions.UNIT_ATTENTION +2 ')
        self.assertNotIn('latency', out)
        self.assertIn('Driver/Target: iscsi/iqn.2026-11.org.example:t2\n\n\t(no sessions)\n', out)

    def test_list_unknown(self):
        rc, _, err = self.run_admin('-list_dev_attr', 'nosuch')
        self.assertEqual(rc, 1)
        self.assertIn("No such device 'nosuch' exists.", err)

    def test_help_lists_every_verb(self):
        rc, out, _ = self.run_admin('-help')
        self.assertEqual(rc, 0)
        verbs = ['list_handler', 'list_device', 'list_target', 'list_group', 'list_sessions',
                 'list_dev_attr', 'list_tgt_attr', 'list_grp_attr', 'list_drv_attr',
                 'open_dev', 'close_dev', 'add_target', 'rem_target', 'add_lun', 'rem_lun',
                 'replace_lun', 'clear_luns', 'add_group', 'rem_group', 'add_init', 'rem_init',
                 'move_init', 'clear_inits', 'enable_target', 'disable_target', 'set_dev_attr',
                 'set_tgt_attr', 'set_grp_attr', 'set_drv_attr', 'resync_dev', 'eject_dev',
                 'load_dev', 'close_session',
                 'write_config', 'config', 'check_config', 'clear_config', 'nonkey', 'noprompt',
                 'force', 'rpc-socket', 'json']
        for v in verbs:
            self.assertRegex(out, r'\n +--?%s\b' % v, v)


if __name__ == '__main__':
    ADMIN = sys.argv.pop(1) if len(sys.argv) > 1 else None
    if not ADMIN or not os.path.exists(ADMIN):
        sys.exit('usage: test_uscstadmin.py PATH_TO_USCSTADMIN')
    unittest.main(verbosity=2)
