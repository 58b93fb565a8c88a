/*
 * Several LuaJIT VMs in one process, one per thread, each running its own Lua file with the JIT on
 * (moonwalk's multi-VM fixture). Built by the tests with gcc against the installed luajit2 headers:
 *   gcc -O1 -pthread multivm.c -I/usr/include/luajit-2.1 -lluajit-5.1 -o multivm
 * Usage: multivm SECONDS FILE...
 *   VM i runs FILE[i] with MOONWALK_VM = i and arg = { [0] = FILE[i], [1] = SECONDS }; the files bound their
 *   own run time by arg[1] and print their ground truth (lines prefixed "VM<i> ").
 *   The host prints "VM <i> L <main lua_State>" before starting VM i, "VM <i> END <status>" when its file
 *   returned, and "ALLDONE" when every file returned. The VMs stay open (traces and mcode stay live) until
 *   stdin reaches EOF or a line "quit", so tests can read them from outside; then all are closed.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <luajit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VMS 64

struct vm {
	int id;
	const char *file;
	const char *seconds;
	lua_State *L;
	int status;
	pthread_t thread;
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *fmt, int id, const void *p, int status)
{
	pthread_mutex_lock(&out_lock);
	printf(fmt, id, p, status);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void *run_vm(void *arg)
{
	struct vm *v = arg;
	lua_State *L = v->L;
	luaL_openlibs(L);
	luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_ON);
	lua_pushinteger(L, v->id);
	lua_setglobal(L, "MOONWALK_VM");
	lua_createtable(L, 2, 1);
	lua_pushstring(L, v->file);
	lua_rawseti(L, -2, 0);
	lua_pushstring(L, v->seconds);
	lua_rawseti(L, -2, 1);
	lua_setglobal(L, "arg");
	v->status = luaL_dofile(L, v->file);
	if (v->status != 0) {
		pthread_mutex_lock(&out_lock);
		fprintf(stderr, "VM %d: %s\n", v->id, lua_tostring(L, -1));
		pthread_mutex_unlock(&out_lock);
	}
	fflush(stdout);
	say("VM %d END %p %d\n", v->id, (void *)0, v->status);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc - 2 > MAX_VMS) {
		fprintf(stderr, "usage: %s SECONDS FILE... (at most %d files)\n", argv[0], MAX_VMS);
		return 2;
	}
	int n = argc - 2;
	struct vm *vms = calloc((size_t)n, sizeof(*vms));
	if (!vms)
		return 1;
	for (int i = 0; i < n; i++) {
		vms[i].id = i;
		vms[i].file = argv[i + 2];
		vms[i].seconds = argv[1];
		vms[i].L = luaL_newstate();
		if (!vms[i].L) {
			fprintf(stderr, "VM %d: luaL_newstate failed\n", i);
			return 1;
		}
		say("VM %d L %p %d\n", i, vms[i].L, 0);
	}
	for (int i = 0; i < n; i++) {
		if (pthread_create(&vms[i].thread, NULL, run_vm, &vms[i]) != 0) {
			fprintf(stderr, "VM %d: pthread_create failed\n", i);
			return 1;
		}
	}
	int failed = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(vms[i].thread, NULL);
		failed |= vms[i].status != 0;
	}
	printf("ALLDONE\n");
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof line, stdin) && strncmp(line, "quit", 4) != 0) {
	}
	for (int i = 0; i < n; i++)
		lua_close(vms[i].L);
	free(vms);
	return failed;
}
