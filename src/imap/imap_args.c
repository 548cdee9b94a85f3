#include "imap/imap_args.h"

#include "lib/strutil.h"

#include <string.h>

bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type != IMAP_ARG_ATOM)
		return false;
	*str_r = arg->str;
	return true;
}

bool imap_arg_get_string(const struct imap_arg *arg, const char **str_r, size_t *len_r)
{
	if (arg->type != IMAP_ARG_QUOTED &&
	    (arg->type != IMAP_ARG_LITERAL || arg->literal8))
		return false;
	*str_r = arg->str;
	*len_r = (size_t)arg->len;
	return true;
}

bool imap_arg_get_astring(const struct imap_arg *arg, const char **str_r, size_t *len_r)
{
	if (arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_NIL) {
		*str_r = arg->str;
		*len_r = (size_t)arg->len;
		return true;
	}
	return imap_arg_get_string(arg, str_r, len_r);
}

bool imap_arg_get_nstring(const struct imap_arg *arg, const char **str_r, size_t *len_r)
{
	if (arg->type == IMAP_ARG_NIL) {
		*str_r = NULL;
		*len_r = 0;
		return true;
	}
	return imap_arg_get_string(arg, str_r, len_r);
}

bool imap_arg_get_number(const struct imap_arg *arg, uint64_t *num_r)
{
	uint64_t v;
	if (arg->type != IMAP_ARG_ATOM ||
	    str_parse_u64n(arg->str, (size_t)arg->len, &v) < 0 || v > INT64_MAX)
		return false;
	*num_r = v;
	return true;
}

bool imap_arg_get_list(const struct imap_arg *arg, const struct imap_arg **list_r, size_t *count_r)
{
	if (arg->type != IMAP_ARG_LIST)
		return false;
	*list_r = arg->list;
	*count_r = arg->count;
	return true;
}

bool imap_arg_atom_equals(const struct imap_arg *arg, const char *word)
{
	return arg->type == IMAP_ARG_ATOM && str_ieq_n(arg->str, (size_t)arg->len, word);
}
