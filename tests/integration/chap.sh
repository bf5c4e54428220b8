#!/bin/bash
# CHAP (RFC 7143 12.1.3): IncomingUser / OutgoingUser on a target and in
# the TARGET_DRIVER section (discovery). chap.py logs in with every
# algorithm one-way and mutual and tries everything that must be refused;
# libiscsi logs in with MD5 one-way and mutual; the log says why each
# refusal happened and never shows a secret; a configuration whose
# mutual secret is an incoming one is refused. Then the liveness check.
. "$(dirname "$0")/lib.sh" "$@"

CHAP_TGT=iqn.2026-11.test:chap
ONEWAY_TGT=iqn.2026-11.test:chap-oneway
truncate -s 16M "$WORKDIR/disk0.img" "$WORKDIR/disk1.img"
cat > "$WORKDIR/scst.conf" <<CONF
HANDLER vdisk_fileio {
	DEVICE disk0 {
		filename $WORKDIR/disk0.img
	}
	DEVICE disk1 {
		filename $WORKDIR/disk1.img
	}
}
TARGET_DRIVER iscsi {
	IncomingUser "disc discoverysecret"
	OutgoingUser "discarray discarraysecret"
	TARGET $DEMO_IQN {
		enabled 1
		LUN 0 disk0
	}
	TARGET $CHAP_TGT {
		enabled 1
		IncomingUser "joe 12charsecret"
		IncomingUser "ann ann's other secret"
		OutgoingUser "array targetsecret12"
		RspTimeout 3
		LUN 0 disk1
	}
	TARGET $ONEWAY_TGT {
		enabled 1
		IncomingUser "joe 12charsecret"
		LUN 0 disk1
	}
}
CONF

note "configurations uscstd must refuse"
bad_config() {
	local what=$1 want=$2 out
	shift 2
	sed "$@" "$WORKDIR/scst.conf" > "$WORKDIR/bad.conf"
	out=$(timeout -k 5 20 "$USCSTD" -c "$WORKDIR/bad.conf" --listen "127.0.0.1:$(free_port)" \
		--state-dir "$WORKDIR/state" 2>&1) && fail "uscstd accepted $what"
	grep -q -- "$want" <<< "$out" || fail "$what: no '$want' in: $out"
	grep -q "12charsecret\|targetsecret12\|discarraysecret\|discoverysecret" <<< "$out" &&
		fail "$what: the error shows a secret: $out"
	note "refused ($what): $(grep -m1 -- "$want" <<< "$out" | cut -c 1-200)"
}
mkdir -p "$WORKDIR/state"
bad_config "a mutual secret equal to an incoming one" "has the secret of IncomingUser" \
	's/OutgoingUser "array targetsecret12"/OutgoingUser "array 12charsecret"/'
bad_config "a driver mutual secret equal to its incoming one" "has the secret of IncomingUser" \
	's/OutgoingUser "discarray discarraysecret"/OutgoingUser "discarray discoverysecret"/'
bad_config "a secret shorter than 12 bytes" "at least 96 bits" \
	's/IncomingUser "joe 12charsecret"/IncomingUser "joe 11charsecre"/'
bad_config "an IncomingUser without a secret" "a user name and a secret" \
	's/IncomingUser "ann ann.s other secret"/IncomingUser "ann"/'
bad_config "two OutgoingUser lines" "OutgoingUser" \
	's/OutgoingUser "array targetsecret12"/OutgoingUser "array targetsecret12"\n OutgoingUser "b targetsecret13"/'
bad_config "an OutgoingUser without IncomingUser" "OutgoingUser without IncomingUser" \
	'/IncomingUser "disc discoverysecret"/d'

start_uscstd -c "$WORKDIR/scst.conf"

note "python initiator: every algorithm, one-way and mutual, and the refusals"
run python3 -B "$(dirname "$0")/chap.py" "$PORT" "$LOG"

note "libiscsi: MD5 CHAP one-way and mutual"
base=iscsi://127.0.0.1:$PORT/$CHAP_TGT/0
out=$(run iscsi-inq -i "$INI1" "iscsi://joe%12charsecret@127.0.0.1:$PORT/$CHAP_TGT/0")
grep -q '^Peripheral Device Type:DIRECT_ACCESS' <<< "$out" || fail "libiscsi one-way CHAP: $out"
out=$(run iscsi-inq -i "$INI1" \
	"iscsi://joe%12charsecret@127.0.0.1:$PORT/$CHAP_TGT/0?target_user=array&target_password=targetsecret12")
grep -q '^Peripheral Device Type:DIRECT_ACCESS' <<< "$out" || fail "libiscsi mutual CHAP: $out"
timeout -k 5 30 iscsi-inq -i "$INI1" "iscsi://joe%wrongsecret12@127.0.0.1:$PORT/$CHAP_TGT/0" \
	> /dev/null 2>&1 && fail "libiscsi logged in with a wrong secret"
timeout -k 5 30 iscsi-inq -i "$INI1" "$base" > /dev/null 2>&1 &&
	fail "libiscsi logged in without credentials"
timeout -k 5 30 iscsi-inq -i "$INI1" \
	"iscsi://joe%12charsecret@127.0.0.1:$PORT/$CHAP_TGT/0?target_user=array&target_password=wrongsecret12" \
	> /dev/null 2>&1 && fail "libiscsi accepted the target with a wrong mutual secret"
out=$(run iscsi-ls -i "$INI1" "iscsi://disc%discoverysecret@127.0.0.1:$PORT")
grep -q "$CHAP_TGT" <<< "$out" || fail "libiscsi discovery with CHAP: $out"
timeout -k 5 30 iscsi-ls -i "$INI1" "iscsi://127.0.0.1:$PORT" > /dev/null 2>&1 &&
	fail "libiscsi discovered targets without CHAP"
note "libiscsi: MD5 one-way, mutual and discovery work; wrong or no secret refused"

note "SIGHUP: the driver section's new discovery credentials replace the old"
sed -i 's/IncomingUser "disc discoverysecret"/IncomingUser "disc reloadedsecret"/' "$WORKDIR/scst.conf"
done_before=$(grep -c "reload of .* done" "$LOG")
kill -HUP "$USCSTD_PID"
for _ in $(seq 50); do
	[ "$(grep -c "reload of .* done" "$LOG")" -gt "$done_before" ] && break
	sleep 0.1
done
[ "$(grep -c "reload of .* done" "$LOG")" -gt "$done_before" ] || fail "the reload did not finish"
out=$(run iscsi-ls -i "$INI1" "iscsi://disc%reloadedsecret@127.0.0.1:$PORT")
grep -q "$CHAP_TGT" <<< "$out" || fail "discovery with the reloaded secret: $out"
timeout -k 5 30 iscsi-ls -i "$INI1" "iscsi://disc%discoverysecret@127.0.0.1:$PORT" \
	> /dev/null 2>&1 && fail "discovery with the secret the reload replaced still works"
note "after SIGHUP discovery takes the new secret and refuses the old one"

# wait_reload OUTCOME_REGEX: SIGHUP and wait for its log line.
wait_reload() {
	local before
	before=$(grep -Ec "$1" "$LOG")
	kill -HUP "$USCSTD_PID"
	for _ in $(seq 50); do
		[ "$(grep -Ec "$1" "$LOG")" -gt "$before" ] && return 0
		sleep 0.1
	done
	fail "no '$1' after SIGHUP"
}

note "SIGHUP with an error elsewhere in the file: nothing changes, credentials included"
cp "$WORKDIR/scst.conf" "$WORKDIR/good.conf"
sed -i -e 's/IncomingUser "disc reloadedsecret"/IncomingUser "disc refusedsecret1"/' \
	-e 's/IncomingUser "joe 12charsecret"/IncomingUser "joe refusedsecret2"/' \
	-e 's/LUN 0 disk0/LUN 0 no_such_disk/' "$WORKDIR/scst.conf"
wait_reload "reload refused, nothing changed"
out=$(run iscsi-ls -i "$INI1" "iscsi://disc%reloadedsecret@127.0.0.1:$PORT")
grep -q "$CHAP_TGT" <<< "$out" || fail "a refused reload changed the discovery secret: $out"
run iscsi-inq -i "$INI1" "iscsi://joe%12charsecret@127.0.0.1:$PORT/$CHAP_TGT/0" > /dev/null ||
	fail "a refused reload changed the target's IncomingUser"
timeout -k 5 30 iscsi-inq -i "$INI1" "iscsi://joe%refusedsecret2@127.0.0.1:$PORT/$CHAP_TGT/0" \
	> /dev/null 2>&1 && fail "a refused reload's target secret works"
note "a refused reload left every secret as it was"

note "SIGHUP that changes a target's IncomingUser: new logins need the new secret"
sed -e 's/IncomingUser "joe 12charsecret"/IncomingUser "joe changedsecret3"/' \
	"$WORKDIR/good.conf" > "$WORKDIR/scst.conf"
wait_reload "reload of .* done"
run iscsi-inq -i "$INI1" "iscsi://joe%changedsecret3@127.0.0.1:$PORT/$CHAP_TGT/0" > /dev/null ||
	fail "the reloaded target secret does not work"
timeout -k 5 30 iscsi-inq -i "$INI1" "iscsi://joe%12charsecret@127.0.0.1:$PORT/$CHAP_TGT/0" \
	> /dev/null 2>&1 && fail "the target secret a reload replaced still works"
note "after SIGHUP the target takes the new secret and refuses the old one"

note "SIGHUP of a file without the TARGET_DRIVER section's credentials: discovery is open"
sed -e '/IncomingUser "disc /d' -e '/OutgoingUser "discarray /d' "$WORKDIR/scst.conf" \
	> "$WORKDIR/open.conf"
cp "$WORKDIR/open.conf" "$WORKDIR/scst.conf"
wait_reload "reload of .* done"
out=$(run iscsi-ls -i "$INI1" "iscsi://127.0.0.1:$PORT")
grep -q "$CHAP_TGT" <<< "$out" || fail "discovery without CHAP after its credentials went: $out"
note "discovery credentials removed from the file are gone after SIGHUP"

note "the log never shows a secret"
# The first login of chap.py (the rest of that second is rate-limited).
grep -q "(iqn.2026-11.test:chap-initiator): CHAP MD5 authenticated user 'joe'" "$LOG" ||
	fail "no log line for the first CHAP login"
grep -n "12charsecret\|targetsecret12\|discarraysecret\|discoverysecret\|other secret\|reloadedsecret\|refusedsecret\|changedsecret" "$LOG" &&
	fail "a secret is in uscstd's log"

check_liveness "after the CHAP logins and refusals" "$INI1" 80000000c4a1 ||
	fail "liveness after CHAP"
stop_uscstd
echo "chap: all checks passed"
