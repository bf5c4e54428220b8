# A thin front on meson/ninja. See README.md.
#
#   make deps    install the Debian packages the build and the tests need
#   make build   configure (once) and build into build/
#   make run     build, then run uscstd in the foreground with the demo target
#   make test    unit, integration and fuzz-corpus tests on a normal and an
#                ASan+UBSan build, the multi-session ones on a TSan build
#   make bench   uscstd against tgtd, side by side (bench/README.md)
#   make soak    logins and logouts at a steady rate for SOAK_SECONDS (default
#                600) against one uscstd, failing if its RSS or descriptors
#                grow (tests/integration/soak.sh, docs/scale.md); not in
#                make test
#   make fuzz    each libFuzzer harness for FUZZ_SECONDS (default 60) on a
#                clang ASan+UBSan build in build-fuzz/ (tests/fuzz/run_fuzz.sh;
#                FUZZ_MERGE=1 merges new coverage into tests/fuzz/corpus/)
#   make clean   remove the build directories and ./state

BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
TSAN_BUILD_DIR ?= build-tsan
STATE_DIR ?= $(CURDIR)/state

# Debian packages, by what needs them. `make run` installs only what the
# build needs; `make test` adds the initiators the tests drive; `make bench`
# adds tgt, the reference target (python3: the integration tests' socket
# snippets; iproute2/procps: ss, pgrep; prometheus: promtool, which checks
# the metrics endpoint's text; systemd: systemd-analyze, which checks the
# unit; strace: what uscstd calls, against the unit's sandbox; man-db,
# groff-base: the man pages rendered; sg3-utils: the SCSI commands the
# Linux guest sends, also at hand for a look at a LUN from the host;
# open-isns-server, open-isns-utils: isnsd and isnsadm, the iSNS test's
# server and its view of what uscstd registered).
BUILD_PACKAGES := build-essential meson ninja-build pkg-config \
	liburing-dev libisal-dev libssl-dev libjson-c-dev libcmocka-dev \
	libiscsi-dev libiscsi-bin libsystemd-dev
TEST_PACKAGES := $(BUILD_PACKAGES) qemu-utils qemu-block-extra \
	iproute2 procps python3 coreutils util-linux qemu-system-x86 socat cpio \
	systemd man-db groff-base strace prometheus sg3-utils \
	open-isns-server open-isns-utils
BENCH_PACKAGES := $(TEST_PACKAGES) tgt
# `make fuzz` only: Debian's clang with libFuzzer and the sanitizer runtimes.
FUZZ_PACKAGES := $(BUILD_PACKAGES) clang libclang-rt-14-dev llvm
FUZZ_BUILD_DIR ?= build-fuzz

.PHONY: all deps deps-test deps-bench deps-fuzz build run test bench soak fuzz clean

all: build

# install_missing(PACKAGES): asks dpkg about each package and installs only
# what is missing; apt-get update runs only when something is. Idempotent.
define install_missing
	@missing=""; \
	for p in $(1); do \
		dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "installing:$$missing"; \
		$$sudo apt-get update -q && \
		$$sudo env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends $$missing || exit 1; \
		case " $$missing " in *" tgt "*) \
			if command -v systemctl >/dev/null 2>&1; then \
				echo "tgt is installed for the benchmark only: stopping its service (port 3260)"; \
				$$sudo systemctl disable --now tgt >/dev/null 2>&1 || true; \
			fi;; \
		esac; \
		case " $$missing " in *" prometheus "*) \
			if command -v systemctl >/dev/null 2>&1; then \
				echo "prometheus is installed for promtool only: stopping its service (port 9090)"; \
				$$sudo systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true; \
			fi;; \
		esac; \
	fi
endef

deps:
	$(call install_missing,$(BUILD_PACKAGES))

deps-test:
	$(call install_missing,$(TEST_PACKAGES))

deps-bench:
	$(call install_missing,$(BENCH_PACKAGES))

deps-fuzz:
	$(call install_missing,$(FUZZ_PACKAGES))

$(BUILD_DIR)/build.ninja:
	meson setup $(BUILD_DIR)

build: $(BUILD_DIR)/build.ninja
	ninja -C $(BUILD_DIR)

run: deps
	@$(MAKE) --no-print-directory build
	mkdir -p $(STATE_DIR)
	exec $(BUILD_DIR)/src/daemon/uscstd --state-dir $(STATE_DIR)

test: deps-test
	@BUILD_DIR=$(BUILD_DIR) ASAN_BUILD_DIR=$(ASAN_BUILD_DIR) TSAN_BUILD_DIR=$(TSAN_BUILD_DIR) \
		tests/run_all.sh

bench: deps-bench
	@$(MAKE) --no-print-directory build
	bench/run.sh

# The initiator is the scale test's (tests/integration/scale_client.c),
# built with everything else.
SOAK_SECONDS ?= 600
soak: deps-test
	@$(MAKE) --no-print-directory build
	SOAK_SECONDS=$(SOAK_SECONDS) tests/integration/soak.sh $(BUILD_DIR)/src/daemon/uscstd \
		$(BUILD_DIR)/tests/integration/scale_client

# The whole tree is instrumented for coverage (fuzzer-no-link); only the
# harnesses link libFuzzer's main (tests/fuzz/meson.build).
$(FUZZ_BUILD_DIR)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD_DIR) -Dfuzzing=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link

fuzz: deps-fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BUILD_DIR)/build.ninja
	ninja -C $(FUZZ_BUILD_DIR)
	tests/fuzz/run_fuzz.sh $(FUZZ_BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(TSAN_BUILD_DIR) $(FUZZ_BUILD_DIR) $(STATE_DIR)
