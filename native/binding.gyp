{
  "targets": [
    {
      "target_name": "skbtrail_native",
      "sources": [
        "src/addon.cc",
        "src/backend_probe.cc",
        "src/batch.cc",
        "src/btf_funcs.cc",
        "src/errors.cc",
        "src/filter_inject.cc",
        "src/kernel_btf.cc",
        "src/libbpf_log.cc",
        "src/lz4_frame.cc",
        "src/pcap_expr.cc",
        "src/ring_stream.cc",
        "src/session.cc",
        "src/session_funcs.cc",
        "src/skb_btf.cc",
        "src/tc_progs.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "include_dirs": ["../bpf"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-lbpf", "-lelf", "-lz", "-lpcap", "-llz4"]
    }
  ]
}
