cmd_Release/fuse.node := ln -f "Release/obj.target/fuse.node" "Release/fuse.node" 2>/dev/null || (rm -rf "Release/fuse.node" && cp -af "Release/obj.target/fuse.node" "Release/fuse.node")
