// SPDX-License-Identifier: GPL-2.0
/*
 * The physical memory map. The ranges are kept canonical: sorted, disjoint,
 * page aligned, never empty, and no two touching ranges have the same owner.
 * A canonical map is unique for the memory it describes, which lets a claim
 * count the ranges it will need before it changes anything.
 */
#include <string.h>

#include "runtime/memmap.h"

#define PAGE 4096ull
#define LOW_END 0x100000ull

static uint64_t end_of(const struct mem_range *r)
{
	return r->base + r->size;
}

static uint64_t saturating_end(uint64_t base, uint64_t size)
{
	return size > UINT64_MAX - base ? UINT64_MAX : base + size;
}

static uint64_t page_down(uint64_t a)
{
	return a & ~(PAGE - 1);
}

/* Rounds down instead in the top page, which no machine has as RAM. */
static uint64_t page_up(uint64_t a)
{
	if (a > UINT64_MAX - (PAGE - 1))
		return page_down(a);
	return page_down(a + PAGE - 1);
}

/*
 * The pages an entry covers: usable RAM shrinks to whole pages (a partial
 * page is not safe to hand out), anything else grows to whole pages.
 */
static void entry_extent(const struct mmap_entry *e, uint64_t *lo,
			 uint64_t *hi)
{
	uint64_t end = saturating_end(e->base, e->size);

	if (e->type == MEM_USABLE) {
		*lo = page_up(e->base);
		*hi = page_down(end);
	} else {
		*lo = page_down(e->base);
		*hi = page_up(end);
	}
	if (*hi < *lo)
		*hi = *lo;
}

/* The lowest entry edge (or the end of the first MiB) above @x. */
static bool next_edge(const struct mmap_entry *e, unsigned int n, uint64_t x,
		      uint64_t *next)
{
	bool found = false;

	*next = UINT64_MAX;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t edge[2];

		entry_extent(&e[i], &edge[0], &edge[1]);
		for (int j = 0; j < 2 && edge[0] != edge[1]; j++) {
			if (edge[j] > x && edge[j] <= *next) {
				*next = edge[j];
				found = true;
			}
		}
	}
	if (found && x < LOW_END && *next > LOW_END)
		*next = LOW_END;
	return found;
}

/* The owner of [lo, hi), which no entry edge cuts; -1 if no entry has it. */
static int span_owner(const struct mmap_entry *e, unsigned int n, uint64_t lo,
		      uint64_t hi)
{
	int owner = -1;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t elo, ehi;

		entry_extent(&e[i], &elo, &ehi);
		if (elo > lo || ehi < hi)
			continue;
		if (e[i].type != MEM_USABLE)
			return OWNER_FIRMWARE;
		owner = hi <= LOW_END ? OWNER_LOW : OWNER_FREE;
	}
	return owner;
}

/*
 * Sweeps the entries' edges from low to high and writes the canonical ranges
 * to @out while they fit @cap; returns how many there are in all.
 */
static unsigned int build(const struct mmap_entry *e, unsigned int n,
			  struct mem_range *out, unsigned int cap)
{
	struct mem_range cur = { 0, 0, OWNER_FREE };
	unsigned int count = 0;
	uint64_t x = 0, next;

	while (next_edge(e, n, x, &next)) {
		int owner = span_owner(e, n, x, next);

		if (owner < 0) {
			x = next;
			continue;
		}
		if (cur.size && end_of(&cur) == x && (int)cur.owner == owner) {
			cur.size += next - x;
		} else {
			if (cur.size && count++ < cap)
				out[count - 1] = cur;
			cur = (struct mem_range){ x, next - x, owner };
		}
		x = next;
	}
	if (cur.size && count++ < cap)
		out[count - 1] = cur;
	return count;
}

int memmap_init(struct memmap *m, const struct mmap_entry *e, unsigned int n)
{
	if (n && !e)
		return -1;
	if (build(e, n, NULL, 0) > MEMMAP_MAX)
		return -1;
	m->count = build(e, n, m->r, MEMMAP_MAX);
	return 0;
}

static bool touching(const struct mem_range *lo, const struct mem_range *hi)
{
	return end_of(lo) == hi->base;
}

/* The owner @r has once [b, e) is claimed, if @r lies wholly inside it. */
static enum mem_owner owner_after(const struct mem_range *r, uint64_t b,
				  uint64_t e, enum mem_owner owner)
{
	if (r->owner == OWNER_FREE && r->base >= b && end_of(r) <= e)
		return owner;
	return r->owner;
}

/* The index of the FREE range that @addr lies strictly inside, or -1. */
static int free_around(const struct memmap *m, uint64_t addr)
{
	for (unsigned int i = 0; i < m->count; i++)
		if (m->r[i].owner == OWNER_FREE && m->r[i].base < addr &&
		    addr < end_of(&m->r[i]))
			return (int)i;
	return -1;
}

static void insert_at(struct memmap *m, unsigned int i, uint64_t base,
		      uint64_t size, enum mem_owner owner)
{
	memmove(&m->r[i + 1], &m->r[i], (m->count - i) * sizeof(m->r[0]));
	m->r[i] = (struct mem_range){ base, size, owner };
	m->count++;
}

static void merge_touching(struct memmap *m)
{
	unsigned int out = 0;

	for (unsigned int i = 0; i < m->count; i++) {
		struct mem_range *prev = out ? &m->r[out - 1] : NULL;

		if (prev && touching(prev, &m->r[i]) &&
		    prev->owner == m->r[i].owner)
			prev->size += m->r[i].size;
		else
			m->r[out++] = m->r[i];
	}
	m->count = out;
}

/*
 * Whether the piece [b, end of range @i) given @owner will join range i + 1
 * rather than need a range of its own.
 */
static bool joins_next(const struct memmap *m, int i, uint64_t b, uint64_t e,
		       enum mem_owner owner)
{
	const struct mem_range *r = &m->r[i];
	enum mem_owner piece = end_of(r) <= e ? owner : OWNER_FREE;

	return (unsigned int)i + 1 < m->count && touching(r, r + 1) &&
	       owner_after(r + 1, b, e, owner) == piece;
}

/* Likewise for the piece [start of range @i, e) and range i - 1. */
static bool joins_prev(const struct memmap *m, int i, uint64_t b, uint64_t e,
		       enum mem_owner owner)
{
	const struct mem_range *r = &m->r[i];

	return i > 0 && touching(r - 1, r) &&
	       owner_after(r - 1, b, e, owner) == owner;
}

/* How many ranges the map will have once [b, e) is claimed for @owner. */
static unsigned int count_after_claim(const struct memmap *m, uint64_t b,
				      uint64_t e, enum mem_owner owner)
{
	int lo = free_around(m, b), hi = free_around(m, e);
	unsigned int n = m->count;

	for (unsigned int i = 0; i + 1 < m->count; i++)
		if (touching(&m->r[i], &m->r[i + 1]) &&
		    owner_after(&m->r[i], b, e, owner) ==
			    owner_after(&m->r[i + 1], b, e, owner))
			n--;
	if (lo >= 0 && !joins_next(m, lo, b, e, owner))
		n++;
	/* When one FREE range holds the whole claim, its upper part is new. */
	if (hi >= 0 && (hi == lo || !joins_prev(m, hi, b, e, owner)))
		n++;
	return n;
}

/* Splits range @i at @at; the upper part gets @owner or joins range i + 1. */
static void split_upper(struct memmap *m, int i, uint64_t at, uint64_t e,
			enum mem_owner owner)
{
	struct mem_range *r = &m->r[i];
	uint64_t end = end_of(r);
	enum mem_owner piece = end <= e ? owner : OWNER_FREE;

	if ((unsigned int)i + 1 < m->count && touching(r, r + 1) &&
	    r[1].owner == piece) {
		r[1].base = at;
		r[1].size += end - at;
	} else {
		insert_at(m, (unsigned int)i + 1, at, end - at, piece);
	}
	r->size = at - r->base;
}

/* Splits range @i at @at; the lower part gets @owner or joins range i - 1. */
static void split_lower(struct memmap *m, int i, uint64_t at,
			enum mem_owner owner)
{
	struct mem_range *r = &m->r[i];
	uint64_t base = r->base;

	if (i > 0 && touching(r - 1, r) && r[-1].owner == owner) {
		r[-1].size += at - base;
	} else {
		insert_at(m, (unsigned int)i, base, at - base, owner);
		r = &m->r[i + 1];
	}
	r->size -= at - base;
	r->base = at;
}

int memmap_claim(struct memmap *m, uint64_t base, uint64_t size,
		 enum mem_owner owner)
{
	uint64_t b = page_down(base), e = page_up(saturating_end(base, size));
	int i;

	if (owner >= OWNER_MAX)
		return -1;
	if (owner == OWNER_FREE || !size || b >= e)
		return 0;
	if (count_after_claim(m, b, e, owner) > MEMMAP_MAX)
		return -1;
	/*
	 * Whole FREE ranges first, then the (at most two) partly covered ones:
	 * the count only falls and then only rises, never above the final one.
	 */
	for (unsigned int j = 0; j < m->count; j++)
		m->r[j].owner = owner_after(&m->r[j], b, e, owner);
	merge_touching(m);
	i = free_around(m, b);
	if (i >= 0)
		split_upper(m, i, b, e, owner);
	i = free_around(m, e);
	if (i >= 0)
		split_lower(m, i, e, owner);
	return 0;
}

uint64_t memmap_alloc(struct memmap *m, uint64_t size, uint64_t align,
		      uint64_t limit, enum mem_owner owner)
{
	if (!size || size > UINT64_MAX - (PAGE - 1) || owner == OWNER_FREE ||
	    owner >= OWNER_MAX || (align & (align - 1)))
		return 0;
	size = page_up(size);
	if (align < PAGE)
		align = PAGE;
	for (unsigned int i = m->count; i-- > 0;) {
		const struct mem_range *r = &m->r[i];
		uint64_t top = end_of(r) < limit ? end_of(r) : limit, at;

		if (r->owner != OWNER_FREE || top < size)
			continue;
		at = (top - size) & ~(align - 1);
		/* 0 is the failure value, and never free RAM in practice. */
		if (at < r->base || !at)
			continue;
		return memmap_claim(m, at, size, owner) ? 0 : at;
	}
	return 0;
}

uint64_t memmap_total(const struct memmap *m, enum mem_owner owner)
{
	uint64_t total = 0;

	for (unsigned int i = 0; i < m->count; i++)
		if (m->r[i].owner == owner)
			total += m->r[i].size;
	return total;
}

/* Bytes in no range at all (holes in the map) count as someone else's. */
bool memmap_overlaps_other(const struct memmap *m, uint64_t base,
			   uint64_t size, enum mem_owner owner)
{
	uint64_t at = base, end = saturating_end(base, size);

	for (unsigned int i = 0; i < m->count && at < end; i++) {
		const struct mem_range *r = &m->r[i];

		if (end_of(r) <= at)
			continue;
		if (r->base > at || r->owner != owner)
			return true;
		at = end_of(r);
	}
	return at < end;
}

const char *memmap_owner_name(enum mem_owner owner)
{
	static const char *const names[OWNER_MAX] = {
		[OWNER_FREE] = "free",
		[OWNER_FIRMWARE] = "firmware",
		[OWNER_LOW] = "low",
		[OWNER_KEEL_IMAGE] = "keel image",
		[OWNER_BOOTINFO] = "boot info",
		[OWNER_MODULE] = "module",
		[OWNER_KEEL_POOL] = "keel pool",
		[OWNER_GUEST] = "guest",
		[OWNER_TABLES] = "keel tables",
	};

	return (unsigned int)owner < OWNER_MAX ? names[owner] : "unknown";
}
