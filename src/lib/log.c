#include "lib/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_fp;
static char *log_path;
static enum log_level log_min = LOGL_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int log_open(const char *path, const char **error_r)
{
	FILE *fp = NULL;
	if (path != NULL && path[0] != '\0' && strcmp(path, "stderr") != 0) {
		fp = fopen(path, "a");
		if (fp == NULL) {
			*error_r = "cannot open log file";
			return -1;
		}
		setvbuf(fp, NULL, _IOLBF, 0);
	}
	pthread_mutex_lock(&log_lock);
	if (log_fp != NULL)
		fclose(log_fp);
	log_fp = fp;
	free(log_path);
	log_path = fp != NULL ? strdup(path) : NULL;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void log_reopen(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fp != NULL && log_path != NULL) {
		FILE *fp = fopen(log_path, "a");
		if (fp != NULL) {
			setvbuf(fp, NULL, _IOLBF, 0);
			fclose(log_fp);
			log_fp = fp;
		}
	}
	pthread_mutex_unlock(&log_lock);
}

void log_set_level(enum log_level min)
{
	log_min = min;
}

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void log_vwrite(enum log_level lvl, const char *ctx, const char *fmt, va_list ap)
{
	if (lvl < log_min)
		return;
	char msg[2048];
	vsnprintf(msg, sizeof(msg), fmt, ap);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

	pthread_mutex_lock(&log_lock);
	FILE *fp = log_fp != NULL ? log_fp : stderr;
	fprintf(fp, "%s.%03ldZ %s %s%s%s\n", when, ts.tv_nsec / 1000000,
	        level_names[lvl], ctx != NULL ? ctx : "", ctx != NULL ? " " : "", msg);
	pthread_mutex_unlock(&log_lock);
}

void log_write(enum log_level lvl, const char *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(lvl, ctx, fmt, ap);
	va_end(ap);
}

char *log_escape(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (dstlen == 0)
		return dst;
	for (size_t i = 0; i < srclen; i++) {
		unsigned char c = (unsigned char)src[i];
		size_t need = (c >= 0x20 && c < 0x7f && c != '\\') ? 1 : 4;
		if (o + need + 4 > dstlen) {
			if (o + 4 <= dstlen) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (need == 1) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}
