# doppel -- build, test, install and demo.
#
#   make              build build/doppel
#   make SAN=1        ASan+UBSan build in build/asan
#   make test         the whole suite (unit tests under sanitizers, CLI tests,
#                     browser tests); prints "N passed, N failed"
#   make install      build/doppel, its man pages and bash/zsh completion under
#                     $(DESTDIR)$(PREFIX) (PREFIX=/usr/local); make uninstall
#   make demo         import the bundled demo data, analyze, print top pairs
#   make bench-build  build the benchmark drivers (bench/*.c); make test does
#   make bench        run the benchmarks (bench/run.sh; BENCH="index sync" picks)
#   make fuzz         libFuzzer targets (fuzz/) with clang in build/fuzz
#   make fuzz-smoke   run each fuzz target over its corpus for a fixed count
#   BUILD=dir         put objects elsewhere (parallel work trees)
#   CFLAGS=...        replaces only the optimisation and debug flags (default
#                     "-g -O2"); the language, warning, sanitizer and library
#                     flags are always added (DP_CFLAGS)
#
# Sources are found by wildcard: every src/<module>/*.c is part of module
# <module>. A unit test tests/unit/<module>/test_*.c links its module's
# objects and those of the modules in MOD_DEPS_<module> (the modules it
# includes, directly or not), never the CLI: a module can be tested without
# the ones above it.

CC      ?= cc
SAN     ?= 0
FUZZ    ?= 0
# OPT: flags a build kind needs (sanitizers, fuzzing instrumentation); they
# stay whatever CFLAGS says. DBG: the default optimisation and debug level.
ifeq ($(SAN),1)
BUILD   ?= build/asan
OPT     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
DBG     := -g -O1
else ifeq ($(FUZZ),1)
# Objects instrumented for libFuzzer (coverage) plus ASan+UBSan; clang only.
BUILD   ?= build/fuzz
OPT     := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
DBG     := -g -O1
else
BUILD   ?= build
OPT     :=
DBG     := -g -O2
endif

# The libraries, by pkg-config name, and the Debian package that ships each
# one's .pc file (scripts/install-deps.sh installs them all). A missing one
# stops make here, with the package to install, rather than later as a
# missing header. (make clean needs none of them.)
PKG_CONFIG ?= pkg-config
PKGS    := sqlite3 libmicrohttpd libcurl libcmark-gfm jansson yajl libutf8proc zlib libxxhash libisal
DEB_sqlite3       := libsqlite3-dev
DEB_libmicrohttpd := libmicrohttpd-dev
DEB_libcurl       := libcurl4-openssl-dev
DEB_libcmark-gfm  := libcmark-gfm-dev libcmark-gfm-extensions-dev
DEB_jansson       := libjansson-dev
DEB_yajl          := libyajl-dev
DEB_libutf8proc   := libutf8proc-dev
DEB_zlib          := zlib1g-dev
DEB_libxxhash     := libxxhash-dev
DEB_libisal       := libisal-dev
ifneq ($(filter-out clean uninstall,$(or $(MAKECMDGOALS),all)),)
ifeq ($(shell command -v $(PKG_CONFIG) 2>/dev/null),)
$(error $(PKG_CONFIG) is not installed: apt-get install pkg-config (or run scripts/install-deps.sh))
endif
PKGS_MISSING := $(strip $(foreach p,$(PKGS),$(if $(shell $(PKG_CONFIG) --exists $(p) && echo y),,$(p))))
ifneq ($(PKGS_MISSING),)
$(error pkg-config cannot find $(PKGS_MISSING): install the Debian package(s) with   apt-get install $(foreach p,$(PKGS_MISSING),$(DEB_$(p))) (or run scripts/install-deps.sh))
endif
endif
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS))

# Flags the code needs whatever the user's CFLAGS (-std, -Werror, the
# libraries'); the user's CPPFLAGS and CFLAGS come after them.
CFLAGS  ?= $(DBG)
DP_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(OPT) $(PKG_CFLAGS) -MMD -MP $(CPPFLAGS) $(CFLAGS)
DP_LDFLAGS := $(filter -fsanitize%,$(OPT)) $(LDFLAGS)
LDLIBS  := $(PKG_LIBS) -lstemmer -lpthread -lm

MODULES := common store text index ingest match explain analyze eval sync act web
MOD_DEPS_common  :=
MOD_DEPS_store   := common
MOD_DEPS_text    := common
MOD_DEPS_index   := text common
MOD_DEPS_ingest  := store text common
MOD_DEPS_match   := index text common
MOD_DEPS_explain := match index text store common
MOD_DEPS_analyze := explain match index text store common
MOD_DEPS_eval    := match explain index text store common
MOD_DEPS_sync    := ingest text store common
MOD_DEPS_act     := analyze sync ingest explain match index text store common
MOD_DEPS_web     := act analyze sync ingest explain match index text store common

obj_of = $(patsubst src/%.c,$(BUILD)/%.o,$(wildcard src/$(1)/*.c))
$(foreach m,$(MODULES),$(eval OBJ_$(m) := $(call obj_of,$(m))))
# The CLI's unit tests (tests/unit/cli) cover its option parser, which uses
# nothing but common; the commands themselves are tested by tests/cli.
OBJ_cli      := $(BUILD)/cli/opt.o
MOD_DEPS_cli := common

# Web page files are embedded into the binary by tools/embed.c.
ASSETS     := $(sort $(wildcard src/web/static/*))
ASSETS_C   := $(BUILD)/gen/web_assets.c
ASSETS_O   := $(BUILD)/gen/web_assets.o
OBJ_web    += $(ASSETS_O)

ALL_OBJ := $(foreach m,$(MODULES),$(OBJ_$(m)))
CLI_OBJ := $(call obj_of,cli)
BIN     := $(BUILD)/doppel

.PHONY: all test unit demo clean bench bench-build docs install uninstall
all: $(BIN) docs

$(BIN): $(CLI_OBJ) $(ALL_OBJ)
	$(CC) $(DP_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(DP_CFLAGS) -c -o $@ $<

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -Wall -Wextra -Werror -O1 -o $@ $<

$(ASSETS_C): $(BUILD)/tools/embed $(ASSETS)
	@mkdir -p $(dir $@)
	$(BUILD)/tools/embed $@ $(ASSETS)

$(ASSETS_O): $(ASSETS_C)
	$(CC) $(DP_CFLAGS) -Isrc/web -c -o $@ $<

# ---- unit tests ----------------------------------------------------------
UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
test_mod  = $(word 1,$(subst /, ,$(patsubst $(BUILD)/tests/unit/%,%,$(1))))

.SECONDEXPANSION:
$(BUILD)/tests/unit/%: tests/unit/%.c $$(OBJ_$$(call test_mod,$$@)) $$(foreach d,$$(MOD_DEPS_$$(call test_mod,$$@)),$$(OBJ_$$(d))) tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(DP_CFLAGS) -Itests/unit -o $@ $< $(filter %.o,$^) $(DP_LDFLAGS) $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)

test:
	@tests/run.sh

# ---- man pages and shell completion, generated from the --help texts ------
# (tools/cli_docs.sh; the --help texts come from the option tables)
DOCS_STAMP := $(BUILD)/doc/.stamp
docs: $(DOCS_STAMP)
$(DOCS_STAMP): $(BIN) tools/cli_docs.sh
	@rm -rf $(BUILD)/doc
	tools/cli_docs.sh $(BIN) $(BUILD)/doc
	@touch $@

# ---- install: make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage] ---------
PREFIX      ?= /usr/local
bindir      ?= $(PREFIX)/bin
mandir      ?= $(PREFIX)/share/man
man1dir     ?= $(mandir)/man1
bashcompdir ?= $(PREFIX)/share/bash-completion/completions
zshcompdir  ?= $(PREFIX)/share/zsh/site-functions
INSTALL     ?= install

install: $(BIN) $(DOCS_STAMP)
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(man1dir) $(DESTDIR)$(bashcompdir) $(DESTDIR)$(zshcompdir)
	$(INSTALL) -m 755 $(BIN) $(DESTDIR)$(bindir)/doppel
	$(INSTALL) -m 644 $(BUILD)/doc/man/*.1 $(DESTDIR)$(man1dir)/
	$(INSTALL) -m 644 $(BUILD)/doc/completion/doppel.bash $(DESTDIR)$(bashcompdir)/doppel
	$(INSTALL) -m 644 $(BUILD)/doc/completion/_doppel $(DESTDIR)$(zshcompdir)/_doppel

# Removes what install puts there (doppel-*.1: the page of each command).
uninstall:
	rm -f $(DESTDIR)$(bindir)/doppel $(DESTDIR)$(man1dir)/doppel.1 $(DESTDIR)$(man1dir)/doppel-*.1 \
	    $(DESTDIR)$(bashcompdir)/doppel $(DESTDIR)$(zshcompdir)/_doppel

demo: $(BIN)
	@scripts/demo.sh $(BIN)

# ---- benchmarks: the drivers are built by make test too, so they cannot rot
BENCH_BIN := $(BUILD)/bench/index_bench $(BUILD)/bench/store_pairs $(BUILD)/bench/pairs_replace
bench-build: $(BENCH_BIN)

$(BUILD)/bench/index_bench: bench/index_bench.c $(OBJ_index) $(OBJ_text) $(OBJ_common)
	@mkdir -p $(dir $@)
	$(CC) $(DP_CFLAGS) -o $@ $< $(filter %.o,$^) $(DP_LDFLAGS) $(LDLIBS)

$(BUILD)/bench/store_pairs: bench/store_pairs.c $(OBJ_store) $(OBJ_common)
	@mkdir -p $(dir $@)
	$(CC) $(DP_CFLAGS) -o $@ $< $(filter %.o,$^) $(DP_LDFLAGS) $(LDLIBS)

$(BUILD)/bench/pairs_replace: bench/pairs_replace.c $(OBJ_store) $(OBJ_common)
	@mkdir -p $(dir $@)
	$(CC) $(DP_CFLAGS) -o $@ $< $(filter %.o,$^) $(DP_LDFLAGS) $(LDLIBS)

bench: $(BIN) bench-build
	@bench/run.sh $(BIN) $(BENCH)

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- web: the store the browser/API tests serve (tests/browser/fixture.c) ----
$(BUILD)/tests/browser/fixture: tests/browser/fixture.c $(OBJ_store) $(OBJ_common)
	@mkdir -p $(dir $@)
	$(CC) $(DP_CFLAGS) -o $@ $< $(filter %.o,$^) $(DP_LDFLAGS) $(LDLIBS)

# ---- fuzzing: libFuzzer targets fuzz/fuzz_*.c (see fuzz/fuzz.h) ----------
# `make fuzz` builds every target into build/fuzz/ with clang (objects
# instrumented, ASan+UBSan) and their seed corpora into build/fuzz/corpus/
# (fuzz/seeds.sh: test fixtures, demo records, fuzz/seeds/<target>/).
# `make fuzz-smoke` runs each for a fixed number of inputs (fuzz/smoke.sh);
# make test runs it too. Each target's header says what it checks.
FUZZ_CC      ?= clang
FUZZ_TARGETS := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_DIR     := build/fuzz
# Modules each target links (the gh_* targets include a sync source file):
# the module it fuzzes and that module's MOD_DEPS.
FUZZ_MODS_fuzz_split      := ingest $(MOD_DEPS_ingest)
FUZZ_MODS_fuzz_import     := ingest $(MOD_DEPS_ingest)
FUZZ_MODS_fuzz_pick       := ingest $(MOD_DEPS_ingest)
FUZZ_MODS_fuzz_links      := ingest $(MOD_DEPS_ingest)
FUZZ_MODS_fuzz_text       := text common
FUZZ_MODS_fuzz_snapshot   := index text common
FUZZ_MODS_fuzz_markdown   := web act analyze sync ingest explain match index text store common
FUZZ_MODS_fuzz_api        := web act analyze sync ingest explain match index text store common
FUZZ_MODS_fuzz_gh_headers := common
FUZZ_MODS_fuzz_gh_pages   := ingest text store common
FUZZ_EXTRA_fuzz_gh_pages  := $(filter-out %/sync.o,$(OBJ_sync))
FUZZ_EXTRA_fuzz_api       := $(BUILD)/fuzz-fixture.o
FUZZ_DEFS    := -DFUZZ_ROOT='"$(CURDIR)"'

.PHONY: fuzz fuzz-smoke fuzz-runtime FORCE
ifeq ($(FUZZ),1)
fuzz: fuzz-runtime $(addprefix $(BUILD)/,$(FUZZ_TARGETS)) $(BUILD)/corpus/.stamp

# Fail early and say what is missing, not with a linker error.
fuzz-runtime:
	@mkdir -p $(BUILD)
	@printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
	    >$(BUILD)/rtcheck.c
	@$(CC) -fsanitize=fuzzer,address,undefined -o $(BUILD)/rtcheck $(BUILD)/rtcheck.c 2>$(BUILD)/rtcheck.log || { \
	    cat $(BUILD)/rtcheck.log; \
	    echo "make fuzz: $(CC) cannot link a libFuzzer target: the fuzzer runtime (Debian: libclang-rt-dev) is missing; run scripts/install-deps.sh" >&2; \
	    exit 1; }

$(BUILD)/fuzz-fixture.o: tests/browser/fixture.c
	@mkdir -p $(dir $@)
	$(CC) $(DP_CFLAGS) -Dmain=fixture_main -c -o $@ $<

# Rebuild the targets when the tree's path (FUZZ_ROOT) changes.
$(BUILD)/fuzz-defs: FORCE
	@mkdir -p $(dir $@)
	@echo "$(CURDIR)" | cmp -s - $@ || echo "$(CURDIR)" >$@

$(BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(BUILD)/fuzz-defs $$(foreach m,$$(FUZZ_MODS_fuzz_$$*),$$(OBJ_$$(m))) $$(FUZZ_EXTRA_fuzz_$$*)
	$(CC) $(DP_CFLAGS) $(FUZZ_DEFS) -fsanitize=fuzzer -o $@ $< $(filter %.o,$^) $(DP_LDFLAGS) -fsanitize=fuzzer $(LDLIBS)

$(BUILD)/corpus/.stamp: fuzz/seeds.sh $(BUILD)/fuzz_snapshot $(wildcard fuzz/seeds/*/*) $(wildcard tests/fixtures/*/*) demo/issues.json demo/comments.json
	fuzz/seeds.sh $(BUILD)
	@touch $@
else
fuzz:
	@$(MAKE) --no-print-directory FUZZ=1 CC=$(FUZZ_CC) BUILD=$(FUZZ_DIR) fuzz
endif

# smoke.sh builds (make fuzz) itself, so a failed build is a "not ok" line.
fuzz-smoke:
	@fuzz/smoke.sh
