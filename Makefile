# linkupfs - mount LinkedIn conversations as folders.
#
#   make              build ./linkupfs
#   make check        install what is missing, check the layers and the
#                     format, run all tests, build and test the Debian
#                     package, run the tests again under ASan+UBSan, TSan,
#                     valgrind, and the fuzzers (what CI runs)
#   make check-layers fail when an include runs back up the house (STYLE.md)
#   make format-check fail when a source file differs from clang-format's
#   make test         unit tests, then the mounted functional tests
#   make test SANITIZE=1       the same under AddressSanitizer + UBSan
#   make test SANITIZE=thread  the same under ThreadSanitizer
#   make valgrind     the functional tests marked valgrind under memcheck
#   make valgrind-coverage     whether those reach every line and branch
#                     of the C code the whole suite reaches (gcov)
#   make soak         the randomized run of readers under faults for
#                     SOAK_SECONDS (120) with SOAK_SEED (8); it prints counts
#   make demo / make undemo    mount the bundled mock API at ./demo
#   make fuzz / make fuzz-ci   libFuzzer harnesses for FUZZ_TIME s each (300 / 60)
#   make bench        the benchmark suite (bench/run.py; BENCH_SCALE, REPEAT,
#                     LATENCY, SLOW_LATENCY, SLOW_REPEAT), see BENCHMARKS.md
#   make deps         install the Debian packages needed (apt-get)
#   make install / make uninstall   PREFIX (/usr/local) and DESTDIR honoured
#   make deb          the Debian package build/linkupfs_VERSION_ARCH.deb
#                     (checked by lintian); make deb-check also installs,
#                     runs and removes it (tests/test_package.py, as root)

VERSION := 0.1.0
PKGS := fuse3 libcurl libcjson sqlite3 libcrypto libxxhash libzstd
CC ?= cc
PYTHON ?= /usr/bin/python3

CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-D_GNU_SOURCE -DFUSE_USE_VERSION=312 -DLINKUPFS_VERSION='"$(VERSION)"' -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS += $(PKG_LIBS) -lpthread

ifeq ($(SANITIZE),)
BUILD := build/release
BIN := linkupfs
else ifeq ($(SANITIZE),thread)
BUILD := build/tsan
BIN := $(BUILD)/linkupfs
CFLAGS += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS += -fsanitize=thread
# gcc 12's TSan expects its shadow memory at fixed addresses and aborts
# ("unexpected memory mapping") on kernels that randomise mmap more
# (vm.mmap_rnd_bits > 28): run the tests, and the linkupfs they start,
# without address randomisation where the kernel lets us.
TEST_RUN := $(shell setarch $$(uname -m) -R true 2>/dev/null && \
	echo setarch $$(uname -m) -R)
else
BUILD := build/asan
BIN := $(BUILD)/linkupfs
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

SRC := $(wildcard api/*.c cache/*.c fs/*.c fs/*/*.c)
LIB_SRC := $(filter-out fs/main.c,$(SRC))
OBJ := $(SRC:%.c=$(BUILD)/%.o)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check test unit functional demo undemo clean deps asan tsan install \
	valgrind valgrind-coverage soak check-layers format-check format

all: $(BIN)

$(BIN): $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

unit: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do echo "== $$t"; $(TEST_RUN) $$t || exit 1; done

# tests/test_package.py is deb-check's: it tests the package, once
functional: $(BIN)
	LINKUPFS_BIN=$(abspath $(BIN)) $(TEST_RUN) $(PYTHON) -m pytest -q tests \
		--ignore=tests/test_package.py $(PYTEST_ARGS)

test: unit functional

# What CI and the README run: dependencies; the suite; the Debian package
# (built, lintian, installed, removed); the suite again under ASan+UBSan
# and under ThreadSanitizer; under valgrind memcheck the tests that reach
# every path (below); each fuzzer for 60 s. About 45 minutes on 2 cores.
check: deps
	$(MAKE) check-layers
	$(MAKE) format-check
	$(MAKE) test
	$(MAKE) deb-check
	$(MAKE) test SANITIZE=1
	$(MAKE) test SANITIZE=thread
	$(MAKE) valgrind
	$(MAKE) fuzz-ci

asan:
	$(MAKE) test SANITIZE=1

tsan:
	$(MAKE) test SANITIZE=thread

# The functional tests marked `valgrind` with every linkupfs under valgrind
# memcheck (tests/conftest.py): a memory error, a definite or indirect leak
# (tests/valgrind.supp excepted) fails the test. They reach every line and
# branch of the C code that the whole suite reaches, which
# `make valgrind-coverage` checks (a gcov build under build/cov, the suite
# once, about 8 minutes; not tests/test_user.py, whose linkupfs runs as a
# user who cannot write root's counts). A branch only a race between
# threads reaches (a waiter joining pace.c's line in front of another, the
# shutdown watcher seeing the kernel's end first) may be reached in one
# run and not the next. About 9 minutes on 2 cores.
VALGRIND_TESTS ?= tests
valgrind: $(BIN)
	LINKUPFS_BIN=$(abspath $(BIN)) LINKUPFS_VALGRIND=1 $(PYTHON) -m pytest -q \
		-m "valgrind and not timing and not procfs" \
		--ignore=tests/test_package.py $(VALGRIND_TESTS) \
		$(PYTEST_ARGS)

COV_BUILD := build/cov
COV_DATA := build/cov-data
valgrind-coverage:
	CFLAGS="-O0 -g --coverage" LDFLAGS=--coverage $(MAKE) BUILD=$(COV_BUILD) \
		BIN=$(COV_BUILD)/linkupfs $(COV_BUILD)/linkupfs
	find $(COV_BUILD) -name '*.gcda' -delete
	rm -rf $(COV_DATA) && mkdir -p $(COV_DATA)
	COV_BUILD=$(COV_BUILD) COV_DATA=$(COV_DATA) PYTHONPATH=tests \
		LINKUPFS_BIN=$(abspath $(COV_BUILD)/linkupfs) $(PYTHON) -m pytest -q \
		-p valgrind_coverage -m "not timing and not procfs" \
		--ignore=tests/test_package.py --ignore=tests/test_user.py \
		tests $(PYTEST_ARGS)
	$(PYTHON) tests/valgrind_coverage.py $(COV_BUILD) $(COV_DATA)

# tests/test_soak.py, longer than in make test (20 s there): readers of
# random files and offsets, faults armed and cleared, messages arriving;
# every successful read compared with the files' final bytes.
SOAK_SECONDS ?= 120
SOAK_SEED ?= 8
soak: $(BIN)
	LINKUPFS_BIN=$(abspath $(BIN)) LINKUPFS_SOAK_SECONDS=$(SOAK_SECONDS) \
		LINKUPFS_SOAK_SEED=$(SOAK_SEED) $(TEST_RUN) $(PYTHON) -m pytest -q -s \
		tests/test_soak.py $(PYTEST_ARGS)

check-layers:
	@sh tests/check_layers.sh

# clang-format (14, Debian's) with the repository's .clang-format, as curl
# runs checksrc in its build; `make format` rewrites the files in place.
FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRC)

format:
	clang-format -i $(FORMAT_SRC)

deps:
	@sh tests/deps.sh

MNT ?= demo
demo: deps
	$(MAKE) $(BIN)
	@sh tests/demo.sh start $(MNT)

undemo:
	@sh tests/demo.sh stop $(MNT)

# make install [PREFIX=/usr/local] [DESTDIR=staging dir]: the binary and
# the man page; make uninstall removes exactly those two files.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man

.PHONY: uninstall

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/linkupfs
	install -m 644 linkupfs.1 $(DESTDIR)$(MANDIR)/man1/linkupfs.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/linkupfs $(DESTDIR)$(MANDIR)/man1/linkupfs.1

# make deb: the Debian package build/linkupfs_VERSION_ARCH.deb, built by
# dpkg-buildpackage from debian/ (debhelper; dpkg-buildflags' hardening
# flags reach the compiler through CPPFLAGS, CFLAGS and LDFLAGS) in a copy
# of the tree under build/deb (what git tracks or would track: a package
# build starts with `make clean`, which must not take this tree's builds),
# then lintian, which must report no error and no warning. The Makefile's
# VERSION and debian/changelog's must agree.
# make deb-check: make deb, then tests/test_package.py (as root: it
# installs the package with apt, runs it, removes it); make check runs it
# once, not under each sanitizer.
DEB_DIR := build/deb
DEB_ARCH = $(shell dpkg --print-architecture)
DEB_JOBS ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: deb deb-check

deb:
	@v=$$(dpkg-parsechangelog -S Version) && [ "$$v" = "$(VERSION)" ] || \
	{ echo "linkupfs: debian/changelog is at $$v but the Makefile's" \
		"VERSION at $(VERSION): add a changelog entry (dch -v" \
		"$(VERSION))" >&2; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/linkupfs-$(VERSION)
	git ls-files -z -c -o --exclude-standard > $(DEB_DIR)/files || \
	{ echo "linkupfs: make deb builds from the files git tracks, and" \
		"git ls-files failed (see above)" >&2; exit 1; }
	tar --null -T $(DEB_DIR)/files --ignore-failed-read -cf - | \
		tar -xf - -C $(DEB_DIR)/linkupfs-$(VERSION)
	cd $(DEB_DIR)/linkupfs-$(VERSION) && env -u MAKEFLAGS -u MFLAGS \
		-u MAKELEVEL dpkg-buildpackage -us -uc -J$(DEB_JOBS)
	cp $(DEB_DIR)/linkupfs_$(VERSION)_$(DEB_ARCH).deb build/
	lintian --fail-on error,warning --display-info \
		$(DEB_DIR)/linkupfs_$(VERSION)_$(DEB_ARCH).changes
	@echo "linkupfs: build/linkupfs_$(VERSION)_$(DEB_ARCH).deb"

deb-check: deb
	LINKUPFS_DEB=$(abspath build/linkupfs_$(VERSION)_$(DEB_ARCH).deb) \
		$(PYTHON) -m pytest -q tests/test_package.py $(PYTEST_ARGS)

# libFuzzer harnesses (tests/fuzz/): built with clang, ASan and UBSan under
# build/fuzz, apart from the gcc build. `make fuzz` runs each for FUZZ_TIME
# seconds (FUZZ_JOBS at once), `make fuzz-ci` for 60; a crash, leak or
# timeout fails the target and its input stays in build/fuzz/artifacts/NAME/.
FUZZ_DIR := build/fuzz
FUZZ_CC ?= clang
FUZZ_TIME ?= 300
FUZZ_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
FUZZ_NAMES := conversation inbox error render names v2
FUZZ_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -Wshadow -D_GNU_SOURCE \
	-fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -MMD -MP
FUZZ_LIB := api/parse.c api/parse_conversation.c api/parse_inbox.c api/parse_v2.c \
	api/clean.c api/json.c api/json_line.c api/error.c fs/text/render.c \
	fs/text/buf.c fs/text/utf8.c fs/text/names.c
FUZZ_LIB_OBJ := $(FUZZ_LIB:%.c=$(FUZZ_DIR)/%.o)
FUZZ_BIN := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz fuzz-ci fuzz-build

fuzz: deps
	$(MAKE) fuzz-build
	$(PYTHON) tests/fuzz/make_corpus.py $(FUZZ_DIR)/corpus
	bash tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_TIME) $(FUZZ_JOBS) $(FUZZ_NAMES)

fuzz-ci:
	$(MAKE) fuzz FUZZ_TIME=60

fuzz-build: $(FUZZ_LIB_OBJ) $(FUZZ_BIN)

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $< $(FUZZ_LIB_OBJ) \
		$(shell pkg-config --libs libcjson)

-include $(FUZZ_LIB_OBJ:.o=.d) $(FUZZ_BIN:%=%.d)

# The benchmark suite (issue 5): builds the binary and the drivers
# (parse/render, the store's packing), then prints one table. Defaults
# take about 12 minutes on 2 cores.
BENCH_SCALE ?= 1
REPEAT ?= 3
LATENCY ?= 50
SLOW_LATENCY ?= 300
SLOW_REPEAT ?= 1
BENCH_DRIVER := $(BUILD)/bench/parse_render
PACK_DRIVER := $(BUILD)/bench/pack_speed

.PHONY: bench

$(BUILD)/bench/%: bench/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

bench: $(BIN) $(BENCH_DRIVER) $(PACK_DRIVER)
	$(PYTHON) bench/run.py --bin $(abspath $(BIN)) \
		--driver $(abspath $(BENCH_DRIVER)) \
		--pack-driver $(abspath $(PACK_DRIVER)) --scale $(BENCH_SCALE) \
		--repeat $(REPEAT) --latency $(LATENCY) \
		--slow-latency $(SLOW_LATENCY) --slow-repeat $(SLOW_REPEAT)

clean:
	rm -rf build linkupfs

-include $(OBJ:.o=.d) $(UNIT_BIN:%=%.d)
