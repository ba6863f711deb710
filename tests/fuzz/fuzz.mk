# libFuzzer targets (tests/fuzz/README.md): built with clang into
# build/fuzz/; make fuzz runs each for FUZZ_SECONDS on a copy of its seed
# corpus, and so does make check. Included at the end of the Makefile.

FUZZ_CC := clang-14
FUZZ_SECONDS ?= 60
export FUZZ_SECONDS
FUZZ_CFLAGS := -std=c11 -O1 -g -Wall -Wextra -Werror -I. \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_BINS := $(BUILD)/fuzz/fuzz_handoff_stream
HS_DEPS := runtime/handoff_stream.c runtime/crc32c.c runtime/handoff_stream.h \
	runtime/crc32c.h tests/fuzz/handoff_rules.h

$(BUILD)/fuzz/fuzz_handoff_stream: tests/fuzz/fuzz_handoff_stream.c $(HS_DEPS) | deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

# the seed corpus is in the repository; make fuzz-corpus writes it anew
$(BUILD)/fuzz/gen_corpus: tests/fuzz/gen_corpus.c $(HS_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(HOSTCFLAGS) -o $@ $(filter %.c,$^)

.PHONY: fuzz fuzz-corpus clean-fuzz
fuzz: $(FUZZ_BINS)
	tests/run.sh fuzz $(BUILD)

fuzz-corpus: $(BUILD)/fuzz/gen_corpus
	rm -rf tests/fuzz/corpus/handoff_stream
	mkdir -p tests/fuzz/corpus
	$< tests/fuzz/corpus/handoff_stream

check: $(FUZZ_BINS)

clean: clean-fuzz
clean-fuzz:
	rm -rf $(BUILD)/fuzz
