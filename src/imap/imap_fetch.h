/*
 * imap_fetch: the running FETCH command, shared by cmd_fetch.c (the
 * command: which messages, in batches, implicit \Seen, suspension) and
 * imap_fetch_write.c (one message's "* n FETCH (...)" response).
 *
 * A response is a list of pieces, written in bounded chunks: the session
 * never holds more than about output_buffer_limit of it. Before each chunk
 * the writer checks conn_output_full(); when it is true the command
 * suspends (IMAP_CMD_ASYNC) and goes on from the session's `drained` hook.
 * Nothing of a message's answer is computed while it streams except the
 * next chunk: bodies come from the mapped blob, BINARY is decoded on the
 * way.
 */
#ifndef MK_IMAP_FETCH_H
#define MK_IMAP_FETCH_H

#include "imap/imap_fetch_args.h"
#include "imap/imap_internal.h"
#include "lib/buf.h"
#include "mime/decode.h"
#include "store/store.h"

/* Ceiling for the formatted text between two streamed pieces (FLAGS with
 * 64 keywords, a HEADER.FIELDS name with many fields...). */
#define FETCH_TEXT_MAX (256 * 1024)

enum fetch_piece_kind {
	PIECE_MEM,      /* data[0..len) */
	PIECE_DECODE,   /* decode data[0..len) with cte, skip `skip` output
	                   bytes, then emit `out_len` bytes */
};

struct fetch_piece {
	enum fetch_piece_kind kind;
	const char *data;
	uint64_t len;
	enum mime_cte cte;
	uint64_t skip, out_len;
};

struct fetch_ctx {
	struct imap_session *s;
	const char *tag;
	struct imap_fetch_args args;
	bool uid_cmd;
	struct store_uidset set;         /* the requested UIDs */
	unsigned want;                   /* STORE_WANT_* */
	/* Walk over the session's map: next range and next map index. */
	size_t range_i, map_i;
	bool walk_done;
	bool from_view;                  /* answered from the view alone */
	/* The current batch of messages (arena `batch`, reset per batch). */
	struct arena *batch;
	struct store_msg_info *infos;
	uint32_t *seqs;
	bool *flags_changed;
	size_t n_infos, info_i;
	/* The current message's response (arena `msg`, reset per message). */
	struct arena *msg;
	struct fetch_piece *pieces;
	size_t npieces, cap_pieces, piece_i;
	uint64_t piece_off;              /* input bytes of the piece done */
	uint64_t piece_emitted;          /* output bytes (PIECE_DECODE) */
	struct mime_decoder dec;
	const char *map;                 /* mapped blob of the message */
	size_t map_len;
	bool in_message;                 /* pieces of a message are pending */
	/* Outcome. */
	bool expunged;                   /* some message was gone */
	bool unknown_cte;
	bool failed;                     /* internal error (logged) */
	size_t chunk;                    /* bytes per write */
	char *scratch;                   /* chunk + MIME_DECODER_SLACK bytes,
	                                    allocated at the first decode */
	struct buf text;                 /* a message's formatted text */
};

/* imap_fetch_view.c: items the store's view answers alone (UID, FLAGS,
 * RFC822.SIZE, MODSEQ) are written straight from it: no store_fetch, no
 * memory per message. applies: these are the only items. run: write
 * until done (true) or the output is full (false); ghosts set
 * f->expunged. */
bool fetch_view_applies(const struct fetch_ctx *f);
bool fetch_view_run(struct fetch_ctx *f);

/* Build the pieces of the response for infos[info_i] (message bytes mapped
 * when a section needs them). 0; 1 if the message was expunged meanwhile
 * (skip it); -1 on an internal error; -2 for UNKNOWN-CTE. */
int fetch_build_message(struct fetch_ctx *f);
/* Write pending pieces until done (1) or output is full (0). */
int fetch_write_pieces(struct fetch_ctx *f);
/* Release the current message's mapping and pieces. */
void fetch_message_done(struct fetch_ctx *f);

#endif
