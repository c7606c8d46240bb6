/* mem.h - guest-physical memory, the native x86-64 page tables, and guest-virtual access. */
#ifndef KVMSE_MEM_H
#define KVMSE_MEM_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08      /* (Linux 6.11, newer than some headers) */
#endif

typedef uint64_t gva_t, gpa_t;

/* x86-64 page-table entry bits (SDM Vol. 3A, 4.5). */
#define PTE_P    (1ULL << 0)
#define PTE_W    (1ULL << 1)
#define PTE_U    (1ULL << 2)
#define PTE_A    (1ULL << 5)
#define PTE_D    (1ULL << 6)
#define PTE_PS   (1ULL << 7)
#define PTE_NX   (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL
/* Software bit of an absent entry: a file mapping's page past the end of the file. */
#define PTE_SW_BUS (1ULL << 9)
/* Software bit of a present entry: write-protected by a userfaultfd (mm.c). */
#define PTE_SW_WP (1ULL << 10)
/* Software bit of an absent entry: a guard page (MADV_GUARD_INSTALL); its backing, if
 * any, is kept in the address bits for when the guard goes. */
#define PTE_SW_GUARD (1ULL << 11)

struct mem_extent {
	gpa_t start;
	uint64_t pages;
};

/*
 * Called when an entry that was present changes: the CPU model must make the change
 * visible before the program runs again (on KVM: rewrite it from guest ring 0 and
 * INVLPG). 'pte' is the entry's gpa; the entry may change again before that.
 */
typedef void (*mem_pte_hook)(void *ctx, gpa_t pte, gva_t va);
/* Called before pages at or above 'top' are handed out, to make the CPU model see them. */
typedef void (*mem_grow_hook)(void *ctx, uint64_t top);
/* Called when kvmse's own access to user page 'va' finds no page: 0 if the SE layer gave
 * it one (a page the program has not touched yet), so the access is tried again. */
typedef int (*mem_miss_hook)(void *ctx, gva_t va, bool write);

struct mem {
	uint8_t *host;                  /* backing of gpa [0, size) */
	uint64_t size;
	struct mem_extent *free;        /* free gpa runs, sorted by start */
	size_t nfree, capfree;
	uint64_t used_pages;
	gpa_t pt_next;                  /* the rest of the run page tables come from */
	uint64_t pt_left;
	gpa_t root;                     /* PML4 */
	mem_pte_hook hook;
	mem_grow_hook grow;
	void *hook_ctx;
	mem_miss_hook miss;
	void *miss_ctx;
	uint64_t visible;               /* gpa [0, visible) is known to the CPU model */
	struct mem_extent *backed;      /* gpa runs given to mem_back, sorted */
	size_t nbacked, capbacked;
	/* The one range of the upper half the program may name to system calls, for reading
	 * (the vDSO: vdso.c), and the host memory of its data past guest RAM (gpa size on). */
	gva_t ro_start, ro_end;
	const uint8_t *ro_host;
	uint64_t ro_len;
	/* Held by whoever changes the page tables, the allocator or the memory map (the
	 * SE layer's mm calls), and by a CPU model about to run a vCPU of a program with
	 * threads, so none enters while another thread's edit is half done. Reads need not.
	 * The miss hook takes it unless its thread holds it (mem_held). */
	pthread_mutex_t lock;
};

/* How many times this thread holds its process's lock. (Not a recursive mutex: a host
 * fork's child must be able to release the lock its parent's thread took.) */
extern _Thread_local unsigned mem_held;

static inline void mem_lock(struct mem *m)
{
	pthread_mutex_lock(&m->lock);
	mem_held++;
}

static inline void mem_unlock(struct mem *m)
{
	mem_held--;
	pthread_mutex_unlock(&m->lock);
}

/* Reserve 'size' bytes of guest-physical memory; the first 'reserved' bytes are not allocated. */
void mem_init(struct mem *m, uint64_t size, uint64_t reserved);
void mem_destroy(struct mem *m);

static inline void *mem_hva(struct mem *m, gpa_t gpa) { return m->host + gpa; }

/* Allocate a run of up to 'pages' contiguous zeroed pages; returns the count (0: none left). */
uint64_t mem_alloc(struct mem *m, uint64_t pages, gpa_t *gpa);
/* All 'pages' in one run whose host address is a multiple of 'align' (the host's huge
 * pages): 0 or -ENOMEM. */
int mem_alloc_aligned(struct mem *m, uint64_t pages, uint64_t align, gpa_t *gpa);
/* Return pages to the allocator; their host memory is released (and reads back as zero). */
void mem_free(struct mem *m, gpa_t gpa, uint64_t pages);
/* Host memory behind guest pages other than kvmse's own private anonymous memory. */
enum mem_backing {
	MEM_SHARED,             /* shared: the file 'fd' from 'off', or anonymous if fd < 0 */
	MEM_SHARED_RO,          /* ... of a file open read-only */
	MEM_FILE_PRIVATE,       /* the file 'fd' copy-on-write (MAP_PRIVATE) */
	MEM_DROPPABLE,          /* private memory the host may drop (MAP_DROPPABLE), no fd */
};

/*
 * Back allocated pages with a host mapping of 'how': what a fork shares, or the file's
 * own pages. When the pages are freed or zeroed, they become private anonymous memory
 * again. 0 or -errno (the host's mmap: ENODEV for a file that cannot be mapped).
 */
int mem_back(struct mem *m, gpa_t gpa, uint64_t pages, int fd, uint64_t off, enum mem_backing how);
/* The same with System V shared memory segment 'shmid', attached whole at 'gpa' (with
 * shmat's SHM_RDONLY and SHM_EXEC from 'shmflg', checked by the host as for the program). */
int mem_back_shm(struct mem *m, gpa_t gpa, uint64_t pages, int shmid, int shmflg);
/* Zero pages (and release their host memory). */
void mem_zero(struct mem *m, gpa_t gpa, uint64_t pages);
/* One zeroed page for a page table or the shim, or dies (kvmse's own needs). */
gpa_t mem_alloc_page(struct mem *m);

/* The leaf entry for 'va', creating the upper levels if 'create' (upper flags U|W|P). */
uint64_t *mem_pte(struct mem *m, gva_t va, bool create);
/*
 * A new PML4 with the old one's upper half and an empty lower half (execve: a new address
 * space). The CPU model switches CR3 to it before the program runs again, so the old
 * user tables need no edit the CPU must see; they are not freed (page-table pages never
 * are: no stale shadow of one can come back).
 */
void mem_new_root(struct mem *m);
void mem_no_dump(struct mem *m);
/* Map a 2 MiB page (used for the direct map). */
void mem_map_large(struct mem *m, gva_t va, gpa_t gpa, uint64_t flags);
/* Set the leaf entry for 'va'; a change to a present entry goes through the hook. */
int mem_set_pte(struct mem *m, gva_t va, uint64_t val);

/* Access check as the CPU does for a ring-3 access. */
enum mem_access { MEM_READ, MEM_WRITE };

/*
 * Host iovecs for guest range [va, va+len) checked for user 'acc'. Returns the count,
 * or -EFAULT, or -E2BIG if more than 'max' runs are needed (*covered says how far it got).
 */
int mem_iov(struct mem *m, gva_t va, uint64_t len, enum mem_access acc,
	    struct iovec *iov, int max, uint64_t *covered);
/* Host pointer to a user-accessible guest range that must be contiguous in host memory, or NULL. */
void *mem_ptr(struct mem *m, gva_t va, uint64_t len, enum mem_access acc);
/* From a SIGBUS or SIGSEGV handler of kvmse's: a fault at 'addr' during one of the copies
 * below (the host memory behind a guest page failed) makes that copy fail; otherwise
 * returns. */
void mem_fault_recover(const void *addr);
/* Copy to / from user memory: 0 or -EFAULT. */
int mem_read(struct mem *m, void *dst, gva_t va, uint64_t len);
int mem_write(struct mem *m, gva_t va, const void *src, uint64_t len);
/* Copy user-readable bytes from 'va' until one is not, 'max' are copied, or (with 'nul')
 * a NUL was copied; *nul says which. Returns the count copied. */
size_t mem_read_prefix(struct mem *m, void *dst, gva_t va, size_t max, bool *nul);

#endif
