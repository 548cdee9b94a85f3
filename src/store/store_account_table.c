/*
 * store_account_table.c: the accounts open on this thread, found by
 * (data_dir, user_id) in a hash table, and the idle ones in the order
 * they went idle. A walk of every open account per login and per logout
 * cost a thread serving thousands of users more than the login itself.
 */
#include "store/store_internal.h"

#include "lib/arena.h"

#include <stdlib.h>
#include <string.h>

#define TABLE_MIN 64

struct account_table {
	struct store_account **slots;   /* chains linked by hnext */
	size_t mask, n;
	struct store_account *idle_head, *idle_tail;   /* oldest first */
	size_t idle_n;
};

static _Thread_local struct account_table table;

/* FNV-1a: the keys are user ids the administrator made, not input an
 * attacker chooses. */
static uint64_t key_hash(const char *data_dir, const char *user_id)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = data_dir; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;   /* a byte no path holds */
	for (const char *p = user_id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

struct store_account *account_table_find(const char *data_dir, const char *user_id)
{
	if (table.n == 0)
		return NULL;
	uint64_t h = key_hash(data_dir, user_id);
	for (struct store_account *a = table.slots[h & table.mask]; a != NULL; a = a->hnext)
		if (a->hash == h && strcmp(a->user_id, user_id) == 0 &&
		    strcmp(a->data_dir, data_dir) == 0)
			return a;
	return NULL;
}

static void table_resize(size_t size)
{
	struct store_account **slots = xcalloc(size, sizeof(*slots));
	for (size_t i = 0; table.slots != NULL && i <= table.mask; i++) {
		struct store_account *a = table.slots[i];
		while (a != NULL) {
			struct store_account *next = a->hnext;
			a->hnext = slots[a->hash & (size - 1)];
			slots[a->hash & (size - 1)] = a;
			a = next;
		}
	}
	free(table.slots);
	table.slots = slots;
	table.mask = size - 1;
}

void account_table_add(struct store_account *a)
{
	a->hash = key_hash(a->data_dir, a->user_id);
	if (table.slots == NULL)
		table_resize(TABLE_MIN);
	else if (table.n + 1 > table.mask + 1)
		table_resize(2 * (table.mask + 1));
	a->hnext = table.slots[a->hash & table.mask];
	table.slots[a->hash & table.mask] = a;
	table.n++;
}

void account_table_remove(struct store_account *a)
{
	for (struct store_account **p = &table.slots[a->hash & table.mask]; *p != NULL;
	     p = &(*p)->hnext) {
		if (*p == a) {
			*p = a->hnext;
			table.n--;
			break;
		}
	}
	/* A thread whose accounts are all closed holds no table. */
	if (table.n == 0) {
		free(table.slots);
		table.slots = NULL;
		table.mask = 0;
	}
}

void account_idle_push(struct store_account *a)
{
	a->idle_prev = table.idle_tail;
	a->idle_next = NULL;
	if (table.idle_tail != NULL)
		table.idle_tail->idle_next = a;
	else
		table.idle_head = a;
	table.idle_tail = a;
	table.idle_n++;
	a->idle = true;
}

void account_idle_remove(struct store_account *a)
{
	if (!a->idle)
		return;
	if (a->idle_prev != NULL)
		a->idle_prev->idle_next = a->idle_next;
	else
		table.idle_head = a->idle_next;
	if (a->idle_next != NULL)
		a->idle_next->idle_prev = a->idle_prev;
	else
		table.idle_tail = a->idle_prev;
	a->idle_prev = a->idle_next = NULL;
	a->idle = false;
	table.idle_n--;
}

struct store_account *account_idle_oldest(void)
{
	return table.idle_head;
}

size_t account_idle_count(void)
{
	return table.idle_n;
}
