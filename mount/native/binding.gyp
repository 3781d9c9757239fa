{
  "targets": [{
    "target_name": "fuse",
    "include_dirs": [
      "<!(node -e \"require('napi-macros')\")",
      "<!(node -e \"require('fuse-shared-library/include')\")"
    ],
    "libraries": ["-l:libfuse.so.2"],
    "sources": ["fuse-native.c"],
    "cflags": ["-g", "-O3", "-Wall"]
  }]
}
