# mailkeep: one non-recursive Makefile.
#
#   make run          install missing Debian packages, build, start a dev server
#   make check        build and run every test; last line "N passed, N failed"
#   make asan check   the same under AddressSanitizer + UBSan
#   make fuzz         build the libFuzzer targets with clang (build/fuzz/)
#
# Code is split in layers (src/<layer>/), each built into its own static
# archive. A layer links only against the layers below it (DEPS_<layer>), so
# a forbidden upward dependency fails at link time.

FLAVOUR ?= debug
.DEFAULT_GOAL := all
ifneq ($(filter asan,$(MAKECMDGOALS)),)
FLAVOUR := asan
endif
BUILD := build/$(FLAVOUR)

PKGS := openssl sqlite3 libargon2 zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CC ?= cc
# The sub-makes of run, check and release build on every core.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wvla -Wno-unused-parameter
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Isrc $(WARN) $(PKG_CFLAGS) -MMD -MP
LDLIBS := $(PKG_LIBS) -lpthread -lm -lresolv

ifeq ($(FLAVOUR),asan)
OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
       -fno-sanitize-recover=all -DMK_ASAN
LDOPT := -fsanitize=address,undefined
else ifeq ($(FLAVOUR),release)
OPT := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDOPT :=
else
OPT := -O2 -g -fstack-protector-strong
LDOPT :=
endif
CFLAGS_ALL := $(BASE_CFLAGS) $(OPT) $(CFLAGS)

# Layers, highest first, and what each may use.
LAYERS := cli server imap pop3 smtp queue store auth mime lib
DEPS_lib :=
DEPS_mime := lib
DEPS_auth := lib
DEPS_store := mime lib
DEPS_queue := store auth mime lib
DEPS_imap := store auth mime lib
DEPS_pop3 := store auth mime lib
DEPS_smtp := queue store auth mime lib
DEPS_server := imap pop3 smtp queue store auth mime lib
DEPS_cli := server imap pop3 smtp queue store auth mime lib

srcs_of = $(wildcard src/$(1)/*.c)
objs_of = $(patsubst %.c,$(BUILD)/%.o,$(call srcs_of,$(1)))
archive_of = $(BUILD)/libmk_$(1).a
# Archives a layer links with: itself and its deps, skipping empty layers.
layer_archives = $(foreach L,$(1) $(DEPS_$(1)),$(if $(call srcs_of,$(L)),$(call archive_of,$(L))))

define LAYER_RULE
$(call archive_of,$(1)): $(call objs_of,$(1))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach L,$(LAYERS),$(if $(call srcs_of,$(L)),$(eval $(call LAYER_RULE,$(L)))))

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

BIN := $(BUILD)/mailkeep
$(BIN): $(BUILD)/src/main.o $(call layer_archives,cli)
	$(CC) $(LDOPT) -o $@ $^ $(LDLIBS)

# Unit tests: tests/unit/test_<layer>_<name>.c links that layer and below.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
layer_of_test = $(word 2,$(subst _, ,$(notdir $(1))))
define UNIT_RULE
$(BUILD)/tests/unit/$(1): $(BUILD)/tests/unit/$(1).o $(BUILD)/tests/unit/unit.o \
        $(call layer_archives,$(call layer_of_test,$(1)))
	$(CC) $(LDOPT) -o $$@ $$^ $(LDLIBS) -lcmocka
endef
$(foreach T,$(notdir $(basename $(UNIT_SRCS))),$(eval $(call UNIT_RULE,$(T))))

# Fuzz targets: tests/fuzz/fuzz_<layer>_<name>.c. Built here with a replay
# main() (any compiler), and by `make fuzz` with clang's libFuzzer.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/%,$(FUZZ_SRCS))
define FUZZ_RULE
$(BUILD)/tests/fuzz/$(1): $(BUILD)/tests/fuzz/$(1).o $(BUILD)/tests/fuzz/replay.o \
        $(call layer_archives,$(call layer_of_test,$(1)))
	$(CC) $(LDOPT) -o $$@ $$^ $(LDLIBS)
endef
$(foreach T,$(notdir $(basename $(FUZZ_SRCS))),$(eval $(call FUZZ_RULE,$(T))))

FUZZ_CC := clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) -g -O1 -DMK_ASAN \
              -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
ALL_SRCS := $(foreach L,$(LAYERS),$(call srcs_of,$(L)))
define LIBFUZZER_RULE
build/fuzz/$(1): tests/fuzz/$(1).c $(ALL_SRCS)
	@mkdir -p $$(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $$@ $$< \
	  $(foreach L,$(call layer_of_test,$(1)) $(DEPS_$(call layer_of_test,$(1))),$(call srcs_of,$(L))) \
	  $(LDLIBS)
endef
$(foreach T,$(notdir $(basename $(FUZZ_SRCS))),$(eval $(call LIBFUZZER_RULE,$(T))))

.PHONY: all build run check asan release fuzz deps clean lint unit
all build: $(BIN) $(UNIT_BINS) $(FUZZ_REPLAY)

deps:
	@scripts/install-deps

run: deps
	@$(MAKE) --no-print-directory -j$(JOBS) FLAVOUR=release build/release/mailkeep
	@scripts/dev-run build/release/mailkeep

check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) FLAVOUR=$(FLAVOUR) all
	@python3 tests/run.py --build $(BUILD)

unit: all
	@python3 tests/run.py --build $(BUILD) --only unit

# `make asan check`: FLAVOUR is switched to asan above; alone it just builds.
asan: $(if $(filter check,$(MAKECMDGOALS)),,all)

release:
	@$(MAKE) --no-print-directory -j$(JOBS) FLAVOUR=release build/release/mailkeep

fuzz: $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))

lint:
	@scripts/lint

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
