# linkupfs - mount LinkedIn conversations as folders.
#
#   make              build ./linkupfs
#   make check        install what is missing, run all tests, then again
#                     under ASan+UBSan (what CI runs)
#   make test         unit tests, then the mounted functional tests
#   make test SANITIZE=1       the same under AddressSanitizer + UBSan
#   make test SANITIZE=thread  the same under ThreadSanitizer
#   make demo / make undemo    mount the bundled mock API at ./demo
#   make deps         install the Debian packages needed (apt-get)

VERSION := 0.1.0
PKGS := fuse3 libcurl libcjson
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
else
BUILD := build/asan
BIN := $(BUILD)/linkupfs
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

SRC := $(wildcard api/*.c cache/*.c fs/*.c)
LIB_SRC := $(filter-out fs/main.c,$(SRC))
OBJ := $(SRC:%.c=$(BUILD)/%.o)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all check test unit functional demo undemo clean deps asan tsan install

all: $(BIN)

$(BIN): $(OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

unit: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do echo "== $$t"; $$t || exit 1; done

functional: $(BIN)
	LINKUPFS_BIN=$(abspath $(BIN)) $(PYTHON) -m pytest -q tests $(PYTEST_ARGS)

test: unit functional

# What CI and the README run: dependencies, the suite, the suite under
# ASan+UBSan.
check: deps
	$(MAKE) test
	$(MAKE) test SANITIZE=1

asan:
	$(MAKE) test SANITIZE=1

tsan:
	$(MAKE) test SANITIZE=thread

deps:
	@sh tests/deps.sh

MNT ?= demo
demo: deps
	$(MAKE) $(BIN)
	@sh tests/demo.sh start $(MNT)

undemo:
	@sh tests/demo.sh stop $(MNT)

clean:
	rm -rf build linkupfs

-include $(OBJ:.o=.d) $(UNIT_BIN:%=%.d)
