{
  "targets": [
    {
      "target_name": "skbtrail_pcap",
      "sources": ["src/pcap_filter.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["-lpcap"]
    }
  ]
}
