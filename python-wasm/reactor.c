/*
 * fuelbench's CPython reactor: the only C of our own in python.wasm.
 *
 * Linked with -mexec-model=reactor, so the module has no `_start`; the host
 * drives it through four exports:
 *
 *   fuelbench_alloc(size)         -> pointer the host may write `size` bytes to
 *   fuelbench_init(ptr, len)      -> 0 on success; called once, before the
 *                                    Wizer snapshot is taken, with the source
 *                                    of the in-guest runner
 *   fuelbench_run(ptr, len, seed) -> the program's exit code
 *
 * and imports one function, `fuelbench.fuel_consumed`, which the builtin
 * module `_fuelbench` exposes to Python as `fuel()`.
 *
 * plus `_initialize` (the C constructors), which the snapshot step calls
 * before `fuelbench_init` and which must never run again afterwards.
 *
 * Everything Python-level (how a program is executed, how SystemExit maps to
 * an exit code, how `random` is seeded) lives in the runner, which is Python
 * and versioned with the fuelbench binary; this file only moves bytes.
 */
#include <Python.h>
#include <stdlib.h>

/* The runner's `run(source: bytes, seed: int) -> int`, kept from init. */
static PyObject *runner_entry = NULL;

/* The host's count of fuel this run has consumed so far. Exact at the call:
   wasmtime settles its fuel counter before every call out of wasm. */
__attribute__((import_module("fuelbench"), import_name("fuel_consumed")))
extern long long fuelbench_host_fuel_consumed(void);

/* `_fuelbench.fuel()`: lets the in-guest runner measure the fuel of exactly
   the code between two calls, such as one call of a solution. */
static PyObject *fuelbench_fuel(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return PyLong_FromLongLong(fuelbench_host_fuel_consumed());
}

static PyMethodDef fuelbench_methods[] = {
    {"fuel", fuelbench_fuel, METH_NOARGS, "Fuel consumed by this run so far."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fuelbench_module = {
    PyModuleDef_HEAD_INIT, "_fuelbench", "fuelbench's host functions", -1, fuelbench_methods,
};

static PyObject *init_fuelbench_module(void) {
    return PyModule_Create(&fuelbench_module);
}

__attribute__((export_name("fuelbench_alloc")))
void *fuelbench_alloc(size_t size) {
    /* malloc(0) may return NULL; the host always asks for at least a byte. */
    return malloc(size == 0 ? 1 : size);
}

static int init_interpreter(void) {
    /* UTF-8 mode, as python3 on a UTF-8 locale: print("√2") and open() must
       not fall back to ASCII because WASI has no locale. */
    PyPreConfig preconfig;
    PyPreConfig_InitIsolatedConfig(&preconfig);
    preconfig.utf8_mode = 1;
    PyStatus prestatus = Py_PreInitialize(&preconfig);
    if (PyStatus_Exception(prestatus)) {
        return 1;
    }
    if (PyImport_AppendInittab("_fuelbench", init_fuelbench_module) != 0) {
        return 1;
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.write_bytecode = 0;
    config.install_signal_handlers = 0;
    config.buffered_stdio = 1;
    /* A fixed hash seed: set and dict iteration order, and so fuel, must not
       change from run to run. */
    config.use_hash_seed = 1;
    config.hash_seed = 0;
    PyStatus status = PyConfig_SetString(&config, &config.home, L"/usr/local");
    if (!PyStatus_Exception(status)) {
        status = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    return PyStatus_Exception(status) ? 1 : 0;
}

__attribute__((export_name("fuelbench_init")))
int fuelbench_init(char *runner_source, size_t len) {
    if (init_interpreter() != 0) {
        free(runner_source);
        return 1;
    }
    PyObject *source = PyUnicode_DecodeUTF8(runner_source, (Py_ssize_t)len, "strict");
    free(runner_source);
    if (source == NULL) {
        PyErr_Print();
        return 2;
    }
    PyObject *code = Py_CompileString(PyUnicode_AsUTF8(source), "fuelbench_runner.py", Py_file_input);
    Py_DECREF(source);
    if (code == NULL) {
        PyErr_Print();
        return 3;
    }
    PyObject *module = PyImport_ExecCodeModule("fuelbench_runner", code);
    Py_DECREF(code);
    if (module == NULL) {
        PyErr_Print();
        return 4;
    }
    runner_entry = PyObject_GetAttrString(module, "run");
    Py_DECREF(module);
    if (runner_entry == NULL || !PyCallable_Check(runner_entry)) {
        PyErr_Print();
        return 5;
    }
    return 0;
}

__attribute__((export_name("fuelbench_run")))
int fuelbench_run(char *program, size_t len, long long seed) {
    if (runner_entry == NULL) {
        free(program);
        return 70; /* EX_SOFTWARE: the snapshot was taken without a runner. */
    }
    PyObject *bytes = PyBytes_FromStringAndSize(program, (Py_ssize_t)len);
    free(program);
    if (bytes == NULL) {
        PyErr_Print();
        return 1;
    }
    PyObject *result = PyObject_CallFunction(runner_entry, "OL", bytes, seed);
    Py_DECREF(bytes);
    if (result == NULL) {
        /* Only reachable when the runner itself fails; it catches everything
           the program raises. */
        PyErr_Print();
        return 70;
    }
    long exit_code = PyLong_AsLong(result);
    Py_DECREF(result);
    if (exit_code == -1 && PyErr_Occurred()) {
        PyErr_Print();
        return 70;
    }
    return (int)exit_code;
}
