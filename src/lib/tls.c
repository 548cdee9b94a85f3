#include "lib/tls.h"
#include "lib/arena.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *tls_current;

static char *ssl_error(const char *what, const char *path)
{
	char detail[256] = "";
	unsigned long e = ERR_get_error();
	if (e != 0)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	char *msg = xmalloc(512 + strlen(path));
	snprintf(msg, 512 + strlen(path), "%s %s: %s", what, path, detail[0] ? detail : strerror(errno));
	return msg;
}

int tls_load(const char *cert_path, const char *key_path, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		*error_r = ssl_error("cannot create TLS context for", cert_path);
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                         SSL_OP_NO_COMPRESSION);
	/* Partial writes and moving buffers let output come from a growable
	 * buffer; released buffers keep idle TLS connections small. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	                      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		*error_r = ssl_error("cannot load certificate", cert_path);
		SSL_CTX_free(ctx);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		*error_r = ssl_error("cannot load key", key_path);
		SSL_CTX_free(ctx);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = ssl_error("key does not match certificate", key_path);
		SSL_CTX_free(ctx);
		return -1;
	}
	pthread_mutex_lock(&tls_lock);
	SSL_CTX *old = tls_current;
	tls_current = ctx;
	pthread_mutex_unlock(&tls_lock);
	if (old != NULL)
		SSL_CTX_free(old);
	return 0;
}

SSL_CTX *tls_ctx_acquire(void)
{
	pthread_mutex_lock(&tls_lock);
	SSL_CTX *ctx = tls_current;
	if (ctx != NULL)
		SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&tls_lock);
	return ctx;
}

void tls_shutdown(void)
{
	pthread_mutex_lock(&tls_lock);
	SSL_CTX *old = tls_current;
	tls_current = NULL;
	pthread_mutex_unlock(&tls_lock);
	if (old != NULL)
		SSL_CTX_free(old);
}

static int write_pem_file(const char *path, EVP_PKEY *key, X509 *cert)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	FILE *fp = fdopen(fd, "w");
	if (fp == NULL) {
		close(fd);
		return -1;
	}
	int ok = key != NULL ? PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL)
	                     : PEM_write_X509(fp, cert);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		ok = 0;
	fclose(fp);
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static X509 *make_cert(EVP_PKEY *key, const char *hostname)
{
	X509 *x = X509_new();
	if (x == NULL)
		return NULL;
	unsigned char serial[16];
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"mailkeep", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname, -1, -1, 0);
	X509_set_issuer_name(x, name);

	char san[1200];
	snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1",
	         strlen(hostname) < 1000 ? hostname : "localhost");
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
	if (ext != NULL) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(x, key, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int tls_selfsigned_ensure(const char *dir, const char *hostname, char **error_r)
{
	char cert_path[4096], key_path[4096];
	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	if (access(cert_path, R_OK) == 0 && access(key_path, R_OK) == 0)
		return 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		*error_r = ssl_error("cannot create directory", dir);
		return -1;
	}
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key != NULL ? make_cert(key, hostname) : NULL;
	int rc = 0;
	if (cert == NULL) {
		*error_r = ssl_error("cannot generate a self-signed certificate in", dir);
		rc = -1;
	} else if (write_pem_file(key_path, key, NULL) < 0 ||
	           write_pem_file(cert_path, NULL, cert) < 0) {
		*error_r = ssl_error("cannot write certificate files in", dir);
		rc = -1;
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}
