/*
 * fuzz_imap_fetch_args: the input is what follows "t FETCH 1 " on a
 * command line. It goes through the real parser, then the FETCH item
 * parser. Checked: errors come with a message; every section has a
 * response name that, parsed again as an item (partial dropped), gives the
 * same name; flags agree with the sections.
 */
#include "fuzz_imap_common.h"
#include "imap/imap_fetch_args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = arena_new(0);
	const struct imap_command *cmd = fuzz_parse_command(a, "FETCH 1", data, size);
	if (cmd == NULL || cmd->nargs < 1)
		goto out;
	struct imap_fetch_args f;
	const char *err = NULL;
	if (imap_fetch_args_parse(a, cmd->args + 1, cmd->nargs - 1, &f, &err) < 0) {
		CHECK(err != NULL);
		goto out;
	}
	CHECK(f.nsects <= IMAP_FETCH_MAX_ITEMS);
	CHECK(!f.vanished || f.changedsince);
	bool seen = false;
	for (size_t i = 0; i < f.nsects; i++) {
		const struct imap_fetch_sect *s = &f.sects[i];
		CHECK(s->name != NULL && s->name[0] != '\0');
		CHECK(!s->partial || s->count > 0);
		seen |= !s->peek;
		if (s->kind == IMAP_SECT_RFC822 || s->kind == IMAP_SECT_RFC822_HEADER ||
		    s->kind == IMAP_SECT_RFC822_TEXT)
			continue;
		size_t n = strlen(s->name);
		const char *lt = strrchr(s->name, '<');
		if (s->partial) {
			CHECK(lt != NULL && s->name[n - 1] == '>');
			n = (size_t)(lt - s->name);
		}
		struct imap_fetch_args again;
		memset(&again, 0, sizeof(again));
		CHECK(imap_fetch_item_parse(a, s->name, n, &again, &err) == 0);
		CHECK(again.nsects == 1);
		CHECK(strcmp(again.sects[0].name, s->partial ? arena_strndup(a, s->name, n) : s->name) == 0);
		CHECK(again.sects[0].sec.npath == s->sec.npath);
		CHECK(again.sects[0].sec.kind == s->sec.kind);
	}
	CHECK(seen == f.sets_seen);
	CHECK(f.need_message == (f.nsects > 0));
out:
	arena_free(&a);
	return 0;
}
