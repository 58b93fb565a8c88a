/*
 * A host program whose own heap (brk) grows into the low 2 GiB that a non-GC64 LuaJIT must keep its GC heap in
 * (moonwalk's low-memory headroom fixture). Built by the tests without PIE, so the program break starts just
 * above the executable (a few MB up) and grows into that range, against a non-GC64 libluajit.a:
 *   gcc -no-pie -O1 lowmem_host.c -I<luajit>/src <luajit>/src/libluajit.a -lm -ldl -o lowmem_host
 * Prints "L <main lua_State>" and "DONE", then answers commands on stdin, each answer ending with "DONE":
 *   brk <MiB>   grow the program break by MiB (sbrk; the pages are not touched): "BRK <bytes of heap>" or
 *               "BRKFAIL <errno text>" when the break runs into a mapping
 *   lua <MiB>   Lua keeps MiB more of GC memory (1 MiB cdata objects): "LUA OK <collectgarbage count KB>" or
 *               "LUA FAIL <message>" (LuaJIT's own "not enough memory")
 *   spin <seconds>  run a Lua loop for that long (so that a sampling profiler sees the VM): "SPIN"
 *   quit
 */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *LUA_SPIN =
	"local t0, s = os.clock(), 0\n"
	"repeat for i = 1, 10000 do s = s + i % 7 end until os.clock() - t0 >= ...\n";

static const char *LUA_GROW =
	"local ffi = require('ffi')\n"
	"keep = keep or {}\n"
	"local mib = ...\n"
	"for _ = 1, mib do keep[#keep + 1] = ffi.new('char[?]', 1048576) end\n"
	"return collectgarbage('count')\n";

int main(void)
{
	char line[256];
	char *base = sbrk(0);
	lua_State *L = luaL_newstate();
	if (L == NULL) {
		printf("NOSTATE\n");
		return 1;
	}
	luaL_openlibs(L);
	printf("L %p\nDONE\n", (void *)L);
	fflush(stdout);
	while (fgets(line, sizeof line, stdin) != NULL) {
		long mib = 0;
		if (sscanf(line, "brk %ld", &mib) == 1) {
			if (sbrk((intptr_t)mib << 20) == (void *)-1)
				printf("BRKFAIL %s\n", strerror(errno));
			else
				printf("BRK %ld\n", (long)((char *)sbrk(0) - base));
		} else if (sscanf(line, "lua %ld", &mib) == 1) {
			if (luaL_loadstring(L, LUA_GROW) != 0) {
				printf("LUA FAIL %s\n", lua_tostring(L, -1));
				lua_pop(L, 1);
			} else {
				lua_pushinteger(L, mib);
				if (lua_pcall(L, 1, 1, 0) != 0)
					printf("LUA FAIL %s\n", lua_tostring(L, -1));
				else
					printf("LUA OK %.0f\n", lua_tonumber(L, -1));
				lua_pop(L, 1);
			}
		} else if (sscanf(line, "spin %ld", &mib) == 1) {
			if (luaL_loadstring(L, LUA_SPIN) == 0) {
				lua_pushinteger(L, mib);
				lua_pcall(L, 1, 0, 0);
			}
			lua_settop(L, 0);
			printf("SPIN\n");
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		}
		printf("DONE\n");
		fflush(stdout);
	}
	lua_close(L);
	return 0;
}
