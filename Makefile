# kvmse - see README.md. `make` builds build/kvmse; `make run`, `make check`, `make bench`.
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -MMD -MP
LDFLAGS ?=
B       := build

SRCS := $(wildcard src/*.c src/kvm/*.c src/sys/*.c)
OBJS := $(SRCS:src/%.c=$(B)/obj/%.o) $(B)/obj/kvm/shim_blob.o
ASAN_OBJS := $(SRCS:src/%.c=$(B)/asan/%.o) $(B)/obj/kvm/shim_blob.o

.PHONY: all run check check-fast bench clean deps
all: $(B)/kvmse

$(B)/kvmse: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^

$(B)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The guest shim: assembled, then flattened to the bytes loaded at SHIM_VA.
$(B)/shim.o: src/kvm/shim.S src/layout.h
	@mkdir -p $(B)
	$(CC) -c -o $@ $<
$(B)/shim.bin: $(B)/shim.o
	objcopy -O binary -j .text $< $@
$(B)/obj/kvm/shim_blob.o: src/kvm/shim_blob.S $(B)/shim.bin
	@mkdir -p $(dir $@)
	$(CC) -c -DSHIM_BIN='"$(B)/shim.bin"' -o $@ $<

# The same sources under AddressSanitizer and UBSan, for the second pass of `make check`.
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
$(B)/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 $(ASAN_FLAGS) -c -o $@ $<
$(B)/asan/kvmse: $(ASAN_OBJS)
	$(CC) $(ASAN_FLAGS) -o $@ $^

deps:
	@tests/deps.sh

run: all deps
	$(MAKE) -s -C examples
	$(B)/kvmse --stats $(B)/stats.txt examples/build/hello "from kvmse"
	@echo "--- $(B)/stats.txt (excerpt)"
	@grep -E '^(host_seconds|guest_seconds|cpu.exits|cpu.syscalls.exit[a-z]*|se.syscalls) ' $(B)/stats.txt

check: all $(B)/asan/kvmse deps
	tests/run.sh $(B)/kvmse
	KVMSE_ASAN=1 MODES="exit exitless" tests/run.sh $(B)/asan/kvmse

bench: all deps
	bench/run.sh $(B)/kvmse

clean:
	rm -rf $(B) tests/build examples/build bench/build

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d)
