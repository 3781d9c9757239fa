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
  }, {
    "target_name": "fuse_ll",
    "cflags": ["-g", "-O2", "-Wall", "<!@(pkg-config --cflags fuse3)"],
    "libraries": ["<!@(pkg-config --libs fuse3)"],
    "sources": ["fuse-ll.c"]
  }]
}
