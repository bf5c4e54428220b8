# A thin front on meson/ninja. See README.md.
#
#   make deps    install the Debian packages the build and the tests need
#   make build   configure (once) and build into build/
#   make run     build, then run uscstd in the foreground with the demo target
#   make test    unit + integration tests, on a normal and an ASan+UBSan build
#   make bench   uscstd against tgtd, side by side (bench/README.md)
#   make clean   remove the build directories and ./state

BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
STATE_DIR ?= $(CURDIR)/state

# What the build, the tests and the benchmark use. python3: the integration
# tests' socket snippets; iproute2/procps: ss, pgrep; tgt: the benchmark's
# reference target.
DEB_PACKAGES := build-essential meson ninja-build pkg-config \
	liburing-dev libisal-dev libssl-dev libjson-c-dev libcmocka-dev \
	libiscsi-dev libiscsi-bin qemu-utils qemu-block-extra tgt \
	iproute2 procps python3 coreutils util-linux

.PHONY: all deps build run test bench clean

all: build

# Idempotent: asks dpkg about each package and installs only what is
# missing; apt-get update runs only when something is.
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		echo "installing:$$missing"; \
		$$sudo apt-get update -q && \
		$$sudo env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/build.ninja:
	meson setup $(BUILD_DIR)

build: $(BUILD_DIR)/build.ninja
	ninja -C $(BUILD_DIR)

run: deps
	@$(MAKE) --no-print-directory build
	mkdir -p $(STATE_DIR)
	exec $(BUILD_DIR)/src/daemon/uscstd --state-dir $(STATE_DIR)

test: deps
	@BUILD_DIR=$(BUILD_DIR) ASAN_BUILD_DIR=$(ASAN_BUILD_DIR) tests/run_all.sh

bench: deps
	@$(MAKE) --no-print-directory build
	bench/run.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(STATE_DIR)
