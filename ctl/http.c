// SPDX-License-Identifier: MIT
/*
 * vmmctl's HTTP client: one request to a vmm control socket with libcurl
 * (CURLOPT_UNIX_SOCKET_PATH), the answer collected into memory, or passed
 * on line by line for the event stream.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl.h"

#define ANSWER_MAX	(16U << 20)

struct sink {
	struct ctl_answer *ans;
	ctl_line_fn on_line;
	void *opaque;
	bool overflow;
};

static int grow(struct ctl_answer *a, size_t more)
{
	size_t cap = a->cap ? a->cap : 4096;
	char *p;

	if (a->len + more + 1 <= a->cap)
		return 0;
	while (cap < a->len + more + 1)
		cap *= 2;
	p = realloc(a->body, cap);
	if (!p)
		return -ENOMEM;
	a->body = p;
	a->cap = cap;
	return 0;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *opaque)
{
	struct sink *s = opaque;
	struct ctl_answer *a = s->ans;
	size_t n = size * nmemb;
	char *nl;

	if (a->len + n > ANSWER_MAX || grow(a, n)) {
		s->overflow = true;
		return 0;
	}
	memcpy(a->body + a->len, data, n);
	a->len += n;
	a->body[a->len] = '\0';
	if (!s->on_line)
		return n;
	/* streaming: hand over every complete line, keep the rest */
	while ((nl = memchr(a->body, '\n', a->len))) {
		size_t used = (size_t)(nl - a->body) + 1;

		*nl = '\0';
		if (s->on_line(s->opaque, a->body))
			return 0;
		memmove(a->body, a->body + used, a->len - used);
		a->len -= used;
		a->body[a->len] = '\0';
	}
	return n;
}

int ctl_request(const char *socket_path, const char *method, const char *endpoint,
		const char *body, long timeout_s, ctl_line_fn on_line, void *opaque,
		struct ctl_answer *ans)
{
	struct sink s = { .ans = ans, .on_line = on_line, .opaque = opaque };
	struct curl_slist *hdrs = NULL;
	char url[256];
	CURLcode rc;
	CURL *c;
	int ret;

	memset(ans, 0, sizeof(*ans));
	c = curl_easy_init();
	if (!c)
		return CTL_ERR_OTHER;
	snprintf(url, sizeof(url), "http://localhost/api/v1/%s", endpoint);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	if (timeout_s > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	if (body) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	} else if (!strcmp(method, "PUT")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ans->status);
	switch (rc) {
	case CURLE_OK:
		ret = 0;
		break;
	case CURLE_COULDNT_CONNECT:
		ret = CTL_ERR_NO_VM;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		ret = CTL_ERR_TIMEOUT;
		break;
	case CURLE_WRITE_ERROR:
		ret = s.overflow ? CTL_ERR_OTHER : 0;	/* 0: on_line asked to stop */
		break;
	default:
		snprintf(ans->curl_error, sizeof(ans->curl_error), "%s", curl_easy_strerror(rc));
		ret = CTL_ERR_OTHER;
		break;
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return ret;
}

void ctl_answer_free(struct ctl_answer *ans)
{
	free(ans->body);
	ans->body = NULL;
	ans->len = ans->cap = 0;
}
