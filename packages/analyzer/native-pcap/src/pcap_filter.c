/*
 * skbtrail show's pcap-filter expressions, through the system's libpcap: compile() turns an
 * expression into a classic BPF program for a link type (Ethernet when the recorded headers
 * start at the MAC header, raw IP when they start at the network header), and match() runs it
 * over a run of recorded events with libpcap's own bpf_filter(), one call per run of rows.
 * Only the analyzer loads this; it never touches the recorder's addon.
 */
#include <node_api.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXPRESSION 8192

struct filter {
	struct bpf_program program;
};

static napi_value throw_error(napi_env env, const char *message)
{
	napi_throw_error(env, "EPCAP", message);
	return NULL;
}

static void finalize_filter(napi_env env, void *data, void *hint)
{
	struct filter *f = data;
	pcap_freecode(&f->program);
	free(f);
}

/* compile(expression: string, linktype: number, snaplen: number): External */
static napi_value compile(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3)
		return throw_error(env, "compile(expression, linktype, snaplen)");
	static char expression[MAX_EXPRESSION];
	size_t length = 0;
	if (napi_get_value_string_utf8(env, argv[0], expression, sizeof expression, &length) != napi_ok)
		return throw_error(env, "the expression must be a string");
	if (length >= sizeof expression - 1)
		return throw_error(env, "the expression is too long");
	int32_t linktype = 0, snaplen = 0;
	if (napi_get_value_int32(env, argv[1], &linktype) != napi_ok || napi_get_value_int32(env, argv[2], &snaplen) != napi_ok)
		return throw_error(env, "linktype and snaplen must be numbers");

	pcap_t *dead = pcap_open_dead(linktype, snaplen);
	if (!dead)
		return throw_error(env, "pcap_open_dead failed");
	struct filter *f = calloc(1, sizeof(*f));
	if (!f) {
		pcap_close(dead);
		return throw_error(env, "out of memory");
	}
	if (pcap_compile(dead, &f->program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		char message[PCAP_ERRBUF_SIZE + 64];
		snprintf(message, sizeof message, "%s", pcap_geterr(dead));
		pcap_close(dead);
		free(f);
		return throw_error(env, message);
	}
	pcap_close(dead);
	napi_value external;
	if (napi_create_external(env, f, finalize_filter, NULL, &external) != napi_ok) {
		pcap_freecode(&f->program);
		free(f);
		return throw_error(env, "napi_create_external failed");
	}
	return external;
}

static int typed_array(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length)
{
	napi_typedarray_type type;
	napi_value buffer;
	size_t offset;
	if (napi_get_typedarray_info(env, value, &type, length, data, &buffer, &offset) != napi_ok)
		return -1;
	return type == want ? 0 : -1;
}

/*
 * match(filter, bytes: Uint8Array, offsets: Int32Array, wireLen: Uint32Array, hasMac: Uint8Array,
 *       want: 0|1, start: number, n: number, out: Uint8Array): void
 * For rows start..start+n-1 whose hasMac equals want, out[row - start] = the program matches.
 */
static napi_value match(napi_env env, napi_callback_info info)
{
	size_t argc = 9;
	napi_value argv[9];
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 9)
		return throw_error(env, "match(filter, bytes, offsets, wireLen, hasMac, want, start, n, out)");
	struct filter *f;
	if (napi_get_value_external(env, argv[0], (void **)&f) != napi_ok)
		return throw_error(env, "not a compiled filter");
	uint8_t *bytes, *has_mac, *out;
	int32_t *offsets;
	uint32_t *wire_len;
	size_t bytes_len, offsets_len, wire_len_len, has_mac_len, out_len;
	int32_t want, start, n;
	if (typed_array(env, argv[1], napi_uint8_array, (void **)&bytes, &bytes_len) ||
	    typed_array(env, argv[2], napi_int32_array, (void **)&offsets, &offsets_len) ||
	    typed_array(env, argv[3], napi_uint32_array, (void **)&wire_len, &wire_len_len) ||
	    typed_array(env, argv[4], napi_uint8_array, (void **)&has_mac, &has_mac_len) ||
	    typed_array(env, argv[8], napi_uint8_array, (void **)&out, &out_len) ||
	    napi_get_value_int32(env, argv[5], &want) != napi_ok || napi_get_value_int32(env, argv[6], &start) != napi_ok ||
	    napi_get_value_int32(env, argv[7], &n) != napi_ok)
		return throw_error(env, "bad arguments to match");
	if (start < 0 || n < 0 || (size_t)start + (size_t)n + 1 > offsets_len || (size_t)start + (size_t)n > wire_len_len ||
	    (size_t)start + (size_t)n > has_mac_len || (size_t)n > out_len)
		return throw_error(env, "rows out of range");
	for (int32_t i = 0; i < n; i++) {
		int32_t row = start + i;
		if (has_mac[row] != (uint8_t)want)
			continue;
		int32_t from = offsets[row], to = offsets[row + 1];
		if (from < 0 || to < from || (size_t)to > bytes_len) {
			out[i] = 0;
			continue;
		}
		u_int caplen = (u_int)(to - from);
		u_int wirelen = wire_len[row] > caplen ? wire_len[row] : caplen;
		out[i] = bpf_filter(f->program.bf_insns, bytes + from, wirelen, caplen) != 0;
	}
	return NULL;
}

static napi_value init(napi_env env, napi_value exports)
{
	napi_property_descriptor props[] = {
		{"compile", NULL, compile, NULL, NULL, NULL, napi_default, NULL},
		{"match", NULL, match, NULL, NULL, NULL, napi_default, NULL},
	};
	napi_define_properties(env, exports, 2, props);
	napi_value value;
	napi_create_int32(env, DLT_EN10MB, &value);
	napi_set_named_property(env, exports, "DLT_EN10MB", value);
	napi_create_int32(env, DLT_RAW, &value);
	napi_set_named_property(env, exports, "DLT_RAW", value);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
