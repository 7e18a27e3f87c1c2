/*
 * fuelbench's CPython reactor: the only C of our own in python.wasm.
 *
 * Linked with -mexec-model=reactor, so the module has no `_start`. The host
 * drives it through these exports, plus `_initialize` (the C constructors),
 * which the snapshot step calls once and which must never run again:
 *
 *   fuelbench_alloc(size)          -> pointer the host may write `size` bytes to
 *   fuelbench_init(ptr, len)       -> 0 on success; called once, before the
 *                                     Wizer snapshot, with the in-guest runner
 *   fuelbench_run(ptr, len, seed)  -> a plain program's exit code
 *
 * and, to check a candidate against a problem, in this order:
 *
 *   fuelbench_prepare(ptr, len)    -> 0, or 1 when the harness refused the
 *                                     payload (a malformed case: the problem's
 *                                     fault). Runs before any candidate code.
 *   fuelbench_load(ptr, len)       -> 0 loaded, 1 syntax error, 2 raised,
 *                                     3 no such entry point
 *   fuelbench_invoke(dry)          -> 0 returned, 1 raised (dry: everything but
 *                                     the call, so the host can subtract it);
 *                                     a batch calls once per prepared input
 *                                     and answers 0, each outcome kept
 *   fuelbench_check_suite()        -> 0 passed, 1 failed (suite tests)
 *   fuelbench_result()             -> pointer to [u32 length][encoding] of the
 *                                     last outcome (see `encode` below)
 *   fuelbench_inputs()             -> the same for the prepared inputs as they
 *                                     are now, before the load or after the call
 *
 * Why the calls are made from C. A verdict must depend only on what the
 * candidate returned or raised and on the fuel it burned, read by the host;
 * never on code the candidate can reach. So after the candidate has loaded,
 * no Python of ours runs: the entry point is called from here, the result is
 * encoded here from exact built-in types only (nothing the candidate defined
 * is ever asked to describe itself), and the encoding travels back as an
 * export's result, not through stdout. No Python frame of the harness sits
 * above the candidate's, and expected values never enter this module at all:
 * the host compares.
 *
 * What the candidate may not do is enforced by a C audit hook (PEP 578),
 * which Python code cannot remove; see `audit_hook`.
 */
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- The runner ---------------------------------------------------------- */

/* The runner's `run(source: bytes, seed: int) -> int`, kept from init. */
static PyObject *runner_run = NULL;
/* The runner's `prepare(payload: bytes) -> (kind, entry_point, data)`. */
static PyObject *runner_prepare = NULL;

/* ---- Phases and the audit hook -------------------------------------------- */

enum phase {
    /* Our own code: the snapshot, plain programs, `prepare`. */
    PHASE_HOST,
    /* A candidate of one of our problems is loaded or being called. */
    PHASE_CANDIDATE,
    /* A candidate under a public suite's test code, which runs above it. */
    PHASE_SUITE,
};
static enum phase phase = PHASE_HOST;
/* Set while the entry point of a problem that forbids evaluating code (its
   prompt forbids eval, exec and ast) is being called: compiling or executing
   Python code from then on is refused, however it was reached. Loading may
   compile (dataclasses, namedtuple and enum build code as a class is made). */
static int compiling_forbidden = 0;

static int deny(PyObject *type, const char *event) {
    PyErr_Format(type, "%s is not available to code under test in fuelbench", event);
    return -1;
}

static int event_is(const char *event, const char *const *names) {
    for (; *names != NULL; names++) {
        if (strcmp(event, *names) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * What a candidate may not do, and why:
 *
 * - Walk the heap (gc.get_objects / get_referrers / get_referents): the
 *   prepared inputs of a complexity run are live objects, and shrinking them
 *   would make any solution look cheap.
 * - Build code objects from bytes (code.__new__, code.replace, marshal):
 *   crafted bytecode reads and writes arbitrary interpreter memory.
 * - Add audit hooks of its own (they would see everything) or list other
 *   threads' frames.
 * - Install a trace or profile function: one runs at Python events after
 *   the call has returned, between the return and the host's reading of the
 *   result and the inputs (a hook that sorts the caller's list then).
 * - During the call of a problem that forbids evaluating code: compile or
 *   run any Python source or code object (`compile`, `exec`, `eval`, `ast`,
 *   an import that is not already loaded, a standard-library helper that
 *   evaluates a string). The rule is about what runs, not about names.
 *
 * Frames stay available for our own problems: the host calls the entry point
 * from C, so no harness frame exists above the candidate's, and standard
 * library code that looks at its caller (namedtuple, typing, enum, logging)
 * keeps working. Under a public suite the test's frames are above the
 * candidate's, with the expected values in their constants, so there every
 * way to obtain a frame is refused: sys._getframe with the ValueError that
 * namedtuple, typing, enum and logging already handle ("no caller frame"),
 * traceback and generator frames with AttributeError, and tracing.
 */
static int audit_hook(const char *event, PyObject *args, void *user_data) {
    (void)user_data;
    static const char *const always[] = {
        "gc.get_objects", "gc.get_referrers", "gc.get_referents", "code.__new__", "marshal.load",
        "marshal.loads", "sys.addaudithook", "sys._current_frames", "sys._current_exceptions", NULL,
    };
    static const char *const tracing[] = {"sys.settrace", "sys.setprofile", NULL};
    static const char *const frame_attributes[] = {"tb_frame", "gi_frame", "cr_frame", "ag_frame", NULL};
    if (phase == PHASE_HOST) {
        return 0;
    }
    static const char *const compiling[] = {"compile", "exec", NULL};
    if (event_is(event, always) || event_is(event, tracing)) {
        return deny(PyExc_PermissionError, event);
    }
    if (compiling_forbidden && event_is(event, compiling)) {
        PyErr_Format(PyExc_PermissionError,
                     "%s: this problem forbids evaluating code, and its entry point compiled or ran some "
                     "(make classes, namedtuples and imports at module level)",
                     event);
        return -1;
    }
    if (phase != PHASE_SUITE) {
        return 0;
    }
    if (strcmp(event, "sys._getframe") == 0) {
        return deny(PyExc_ValueError, event);
    }
    if (strcmp(event, "object.__getattr__") == 0 && PyTuple_Check(args) && PyTuple_GET_SIZE(args) == 2) {
        const char *name = PyUnicode_Check(PyTuple_GET_ITEM(args, 1))
                               ? PyUnicode_AsUTF8(PyTuple_GET_ITEM(args, 1))
                               : NULL;
        if (name == NULL) {
            PyErr_Clear();
        } else if (event_is(name, frame_attributes)) {
            return deny(PyExc_AttributeError, name);
        }
    }
    return 0;
}

/* ---- The encoding --------------------------------------------------------- */

/*
 * A value is a tag byte and its body; integers are little-endian:
 *
 *   'N' None   'T' True   'F' False
 *   'i' int        u32 n, n bytes of two's complement, little-endian
 *   'f' float      8 bytes, IEEE 754 binary64 (NaN, infinities, -0.0 kept)
 *   's' str        u32 n, n bytes of UTF-8
 *   'b' bytes      u32 n, n bytes
 *   'l' list, 't' tuple, 'S' set, 'z' frozenset   u32 count, count values
 *   'd' dict       u32 count, count (key, value) pairs
 *   'U' not representable   u32 n, n bytes of UTF-8 saying why (a type name)
 *
 * Only exact built-in types are encoded, read through the C API: a subclass,
 * or any other object, becomes 'U' with its type's name, and none of its
 * methods is called. Nothing the candidate wrote runs while a value is
 * encoded (the collector is off, nothing is freed).
 *
 * An outcome ([u32 length] then):
 *   'R' value                       returned
 *   'E' u32 count, count names      raised: the built-in exception classes
 *       name, value                 among its type's bases, its type's name,
 *                                   and its `args` as a value
 *   'B' u32 count, count outcomes   a batch: each input's 'R' or 'E'
 */

/* Containers nested deeper than this are not representable. */
#define MAX_DEPTH 100
/* An encoding larger than this is not representable; no expected value in
   any problem comes near it. */
#define MAX_ENCODED_BYTES ((size_t)16 << 20)

typedef struct {
    unsigned char *data;
    size_t len;
    size_t cap;
    /* Past MAX_ENCODED_BYTES, or out of memory: the encoding is abandoned. */
    int overflow;
    /* The first reason a part was not representable, or NULL. */
    const char *unrepresentable;
} Out;

static unsigned char *reserve(Out *out, size_t n) {
    if (out->overflow) {
        return NULL;
    }
    if (n > MAX_ENCODED_BYTES - out->len) {
        out->overflow = 1;
        return NULL;
    }
    if (out->len + n > out->cap) {
        size_t cap = out->cap == 0 ? 256 : out->cap;
        while (cap < out->len + n) {
            cap *= 2;
        }
        unsigned char *data = realloc(out->data, cap);
        if (data == NULL) {
            out->overflow = 1;
            return NULL;
        }
        out->data = data;
        out->cap = cap;
    }
    unsigned char *at = out->data + out->len;
    out->len += n;
    return at;
}

static void put_u8(Out *out, uint8_t byte) {
    unsigned char *at = reserve(out, 1);
    if (at != NULL) {
        *at = byte;
    }
}

static void put_u32(Out *out, size_t value) {
    unsigned char *at = reserve(out, 4);
    if (at != NULL) {
        uint32_t v = (uint32_t)value;
        memcpy(at, &v, 4); /* wasm is little-endian */
    }
}

static void put_bytes(Out *out, const void *bytes, size_t n) {
    put_u32(out, n);
    unsigned char *at = reserve(out, n);
    if (at != NULL) {
        memcpy(at, bytes, n);
    }
}

static void put_text(Out *out, const char *text) {
    put_bytes(out, text, strlen(text));
}

static void put_unrepresentable(Out *out, const char *why) {
    if (out->unrepresentable == NULL) {
        out->unrepresentable = why;
    }
    put_u8(out, 'U');
    put_text(out, why);
}

static void encode(Out *out, PyObject *value, int depth) {
    if (out->overflow) {
        return;
    }
    if (depth > MAX_DEPTH) {
        put_unrepresentable(out, "containers nested more than 100 deep");
        return;
    }
    if (value == Py_None) {
        put_u8(out, 'N');
    } else if (value == Py_True) {
        put_u8(out, 'T');
    } else if (value == Py_False) {
        put_u8(out, 'F');
    } else if (PyLong_CheckExact(value)) {
        size_t bits = _PyLong_NumBits(value);
        if (bits == (size_t)-1) {
            PyErr_Clear();
            put_unrepresentable(out, "an int too large to encode");
            return;
        }
        size_t n = bits / 8 + 1;
        put_u8(out, 'i');
        put_u32(out, n);
        unsigned char *at = reserve(out, n);
        if (at != NULL && _PyLong_AsByteArray((PyLongObject *)value, at, n, 1, 1) != 0) {
            PyErr_Clear();
            out->overflow = 1;
        }
    } else if (PyFloat_CheckExact(value)) {
        double number = PyFloat_AS_DOUBLE(value);
        put_u8(out, 'f');
        unsigned char *at = reserve(out, 8);
        if (at != NULL) {
            memcpy(at, &number, 8);
        }
    } else if (PyUnicode_CheckExact(value)) {
        Py_ssize_t n = 0;
        const char *text = PyUnicode_AsUTF8AndSize(value, &n);
        if (text == NULL) {
            PyErr_Clear();
            put_unrepresentable(out, "a str with a lone surrogate");
            return;
        }
        put_u8(out, 's');
        put_bytes(out, text, (size_t)n);
    } else if (PyBytes_CheckExact(value)) {
        put_u8(out, 'b');
        put_bytes(out, PyBytes_AS_STRING(value), (size_t)PyBytes_GET_SIZE(value));
    } else if (PyList_CheckExact(value) || PyTuple_CheckExact(value)) {
        int is_list = PyList_CheckExact(value);
        Py_ssize_t n = Py_SIZE(value);
        put_u8(out, is_list ? 'l' : 't');
        put_u32(out, (size_t)n);
        for (Py_ssize_t i = 0; i < n && !out->overflow; i++) {
            encode(out, is_list ? PyList_GET_ITEM(value, i) : PyTuple_GET_ITEM(value, i), depth + 1);
        }
    } else if (PyDict_CheckExact(value)) {
        Py_ssize_t position = 0;
        PyObject *key;
        PyObject *item;
        put_u8(out, 'd');
        put_u32(out, (size_t)PyDict_GET_SIZE(value));
        while (!out->overflow && PyDict_Next(value, &position, &key, &item)) {
            encode(out, key, depth + 1);
            encode(out, item, depth + 1);
        }
    } else if (PySet_CheckExact(value) || PyFrozenSet_CheckExact(value)) {
        Py_ssize_t position = 0;
        PyObject *key;
        Py_hash_t hash;
        put_u8(out, PySet_CheckExact(value) ? 'S' : 'z');
        put_u32(out, (size_t)PySet_GET_SIZE(value));
        while (!out->overflow && _PySet_NextEntry(value, &position, &key, &hash)) {
            encode(out, key, depth + 1);
        }
    } else {
        /* tp_name of a class the candidate defined is only its name: text,
           read as bytes, nothing called. */
        put_unrepresentable(out, Py_TYPE(value)->tp_name);
    }
}

/* ---- Exceptions, by the real built-in classes ------------------------------ */

/* The built-in exception classes a verdict may name. These are C globals:
   no Python code can rebind them, and a class of the candidate's that is
   only *named* ValueError is none of them. */
#define BUILTIN(name) {#name, &PyExc_##name}
static const struct {
    const char *name;
    PyObject **type;
} builtin_exceptions[] = {
    BUILTIN(BaseException), BUILTIN(Exception), BUILTIN(ArithmeticError), BUILTIN(AssertionError),
    BUILTIN(AttributeError), BUILTIN(BufferError), BUILTIN(EOFError), BUILTIN(FloatingPointError),
    BUILTIN(GeneratorExit), BUILTIN(ImportError), BUILTIN(ModuleNotFoundError), BUILTIN(IndexError),
    BUILTIN(KeyError), BUILTIN(KeyboardInterrupt), BUILTIN(LookupError), BUILTIN(MemoryError),
    BUILTIN(NameError), BUILTIN(NotImplementedError), BUILTIN(OSError), BUILTIN(OverflowError),
    BUILTIN(RecursionError), BUILTIN(ReferenceError), BUILTIN(RuntimeError), BUILTIN(StopIteration),
    BUILTIN(StopAsyncIteration), BUILTIN(SyntaxError), BUILTIN(IndentationError), BUILTIN(TabError),
    BUILTIN(SystemError), BUILTIN(SystemExit), BUILTIN(TypeError), BUILTIN(UnboundLocalError),
    BUILTIN(UnicodeError), BUILTIN(UnicodeEncodeError), BUILTIN(UnicodeDecodeError),
    BUILTIN(UnicodeTranslateError), BUILTIN(ValueError), BUILTIN(ZeroDivisionError),
    BUILTIN(FileNotFoundError), BUILTIN(FileExistsError), BUILTIN(PermissionError),
    BUILTIN(TimeoutError), BUILTIN(NotADirectoryError), BUILTIN(IsADirectoryError),
    BUILTIN(InterruptedError), BUILTIN(ConnectionError), BUILTIN(BlockingIOError),
    BUILTIN(ChildProcessError), BUILTIN(ProcessLookupError),
};
#undef BUILTIN
#define N_BUILTIN_EXCEPTIONS (sizeof(builtin_exceptions) / sizeof(builtin_exceptions[0]))

/* Classes visited while looking for built-in bases. Real hierarchies need a
   few dozen; a candidate's diamond of diamonds has exponentially many paths,
   and past this budget its exception simply names fewer built-ins. */
#define MAX_BASE_VISITS 4096

/* Marks in `found` every built-in exception class among `type` and its
   bases, following `tp_bases`: the classes it was really derived from. Its
   `__mro__` is not used, because a metaclass can make `mro()` list classes
   that are not bases at all. */
static void mark_builtin_bases(PyTypeObject *type, int *found, int *visits_left) {
    if (*visits_left <= 0) {
        return;
    }
    *visits_left -= 1;
    for (size_t i = 0; i < N_BUILTIN_EXCEPTIONS; i++) {
        if ((PyObject *)type == *builtin_exceptions[i].type) {
            found[i] = 1;
        }
    }
    PyObject *bases = type->tp_bases;
    if (bases == NULL || !PyTuple_Check(bases)) {
        return;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(bases); i++) {
        PyObject *base = PyTuple_GET_ITEM(bases, i);
        if (PyType_Check(base)) {
            mark_builtin_bases((PyTypeObject *)base, found, visits_left);
        }
    }
}

static void encode_exception(Out *out, PyObject *type, PyObject *value) {
    PyTypeObject *exception_type = (PyTypeObject *)type;
    if (value != NULL && PyExceptionInstance_Check(value)) {
        exception_type = Py_TYPE(value);
    }
    int found[N_BUILTIN_EXCEPTIONS] = {0};
    size_t count = 0;
    if (PyType_Check((PyObject *)exception_type)) {
        int visits_left = MAX_BASE_VISITS;
        mark_builtin_bases(exception_type, found, &visits_left);
    }
    for (size_t i = 0; i < N_BUILTIN_EXCEPTIONS; i++) {
        count += (size_t)found[i];
    }
    put_u8(out, 'E');
    put_u32(out, count);
    for (size_t i = 0; i < N_BUILTIN_EXCEPTIONS; i++) {
        if (found[i]) {
            put_text(out, builtin_exceptions[i].name);
        }
    }
    put_text(out, PyType_Check((PyObject *)exception_type) ? exception_type->tp_name : "?");
    /* Raised from C (PyErr_SetString, PyErr_Format), an exception is not yet
       an instance: its value is the constructor's argument, or a tuple of
       them. Reading that calls nothing either. */
    if (value != NULL && PyExceptionInstance_Check(value) && ((PyBaseExceptionObject *)value)->args != NULL) {
        encode(out, ((PyBaseExceptionObject *)value)->args, 0);
    } else if (value != NULL && PyTuple_CheckExact(value)) {
        encode(out, value, 0);
    } else if (value != NULL && value != Py_None) {
        put_u8(out, 't');
        put_u32(out, 1);
        encode(out, value, 1);
    } else {
        put_u8(out, 't');
        put_u32(out, 0);
    }
}

/* ---- The last outcome, for fuelbench_result --------------------------------- */

/* Everything below is deliberately never released: freeing a candidate's
   object could run its __del__, and the instance is thrown away after the
   check anyway. */
static PyObject *last_value = NULL;
static PyObject *last_error_type = NULL;
static PyObject *last_error_value = NULL;
static unsigned char *last_encoding = NULL;

/* A batch's outcomes, one per prepared input: a value, or an exception's
   type and value. Never released either. */
static Py_ssize_t batch_count = -1;
static PyObject **batch_values = NULL;
static PyObject **batch_error_types = NULL;
static PyObject **batch_error_values = NULL;

static void keep_value(PyObject *value) {
    last_value = value;
    last_error_type = NULL;
    last_error_value = NULL;
    batch_count = -1;
}

/* Takes the raised exception, without normalising it: normalising could call
   a constructor of the candidate's. */
static void keep_error(void) {
    PyObject *type = NULL;
    PyObject *value = NULL;
    PyObject *traceback = NULL;
    if (!PyErr_Occurred()) {
        PyErr_SetString(PyExc_SystemError, "a call failed without an exception");
    }
    PyErr_Fetch(&type, &value, &traceback);
    last_value = NULL;
    last_error_type = type;
    last_error_value = value;
    batch_count = -1;
}

/* Makes `out`, which holds [4 bytes][encoding], the last encoding, its length
   written in front; past the cap, an unrepresentable value saying `what` is
   larger than 16 MiB instead. NULL when even that does not fit. */
static unsigned char *finish(Out out, const char *what) {
    if (out.overflow) {
        free(out.data);
        out = (Out){0};
        reserve(&out, 4);
        put_u8(&out, 'R');
        put_unrepresentable(&out, what);
        if (out.overflow) {
            return NULL;
        }
    }
    uint32_t length = (uint32_t)(out.len - 4);
    memcpy(out.data, &length, 4);
    free(last_encoding);
    last_encoding = out.data;
    return out.data;
}

__attribute__((export_name("fuelbench_result")))
unsigned char *fuelbench_result(void) {
    PyGC_Disable();
    Out out = {0};
    reserve(&out, 4);
    if (batch_count >= 0) {
        put_u8(&out, 'B');
        put_u32(&out, (size_t)batch_count);
        for (Py_ssize_t i = 0; i < batch_count && !out.overflow; i++) {
            if (batch_error_types[i] != NULL) {
                encode_exception(&out, batch_error_types[i], batch_error_values[i]);
            } else {
                put_u8(&out, 'R');
                encode(&out, batch_values[i], 0);
            }
        }
    } else if (last_error_type != NULL) {
        encode_exception(&out, last_error_type, last_error_value);
    } else if (last_value != NULL) {
        put_u8(&out, 'R');
        encode(&out, last_value, 0);
    } else {
        put_u8(&out, 'R');
        put_u8(&out, 'N');
    }
    return finish(out, "a result larger than 16 MiB");
}

/* ---- Preparing, loading and calling a candidate ------------------------------ */

enum kind { KIND_FUNCTION = 0, KIND_CLASS = 1, KIND_SUITE = 2, KIND_DATA = 3 };

/* `prepare`'s flags. */
enum { FLAG_BATCH = 1, FLAG_FORBID_COMPILING = 2 };

static enum kind prepared_kind = KIND_DATA;
static long prepared_flags = 0;
static PyObject *prepared_entry_point = NULL;
/* KIND_FUNCTION: the argument tuple. KIND_CLASS: a tuple of (name, args)
   whose first is ("__init__", args). KIND_SUITE: (namespace, test code).
   With FLAG_BATCH, a tuple of those: the inputs of one batch. */
static PyObject *prepared_data = NULL;
static PyObject *candidate_module = NULL;
static PyObject *entry = NULL;

__attribute__((export_name("fuelbench_prepare")))
int fuelbench_prepare(char *payload, size_t len) {
    PyObject *bytes = PyBytes_FromStringAndSize(payload, (Py_ssize_t)len);
    free(payload);
    PyObject *prepared = bytes == NULL ? NULL : PyObject_CallOneArg(runner_prepare, bytes);
    Py_XDECREF(bytes);
    if (prepared == NULL) {
        keep_error();
        return 1;
    }
    long kind = -1;
    if (PyTuple_Check(prepared) && PyTuple_GET_SIZE(prepared) == 4) {
        kind = PyLong_AsLong(PyTuple_GET_ITEM(prepared, 0));
        prepared_flags = PyLong_AsLong(PyTuple_GET_ITEM(prepared, 3));
    }
    if (kind < KIND_FUNCTION || kind > KIND_DATA || prepared_flags < 0 ||
        ((prepared_flags & FLAG_BATCH) && !PyTuple_Check(PyTuple_GET_ITEM(prepared, 2)))) {
        PyErr_Clear();
        PyErr_SetString(PyExc_SystemError, "prepare() returned no (kind, entry_point, data, flags)");
        keep_error();
        return 1;
    }
    prepared_kind = (enum kind)kind;
    prepared_entry_point = PyTuple_GET_ITEM(prepared, 1);
    prepared_data = PyTuple_GET_ITEM(prepared, 2);
    keep_value(prepared_kind == KIND_DATA ? prepared_data : Py_None);
    return 0;
}

/* The prepared inputs as they are now, encoded as a returned value: read once
   before the candidate loads and once after its call, they tell the host
   whether the call changed its arguments. Like a result, encoded from exact
   built-in types only. */
__attribute__((export_name("fuelbench_inputs")))
unsigned char *fuelbench_inputs(void) {
    PyGC_Disable();
    Out out = {0};
    reserve(&out, 4);
    put_u8(&out, 'R');
    if (prepared_data != NULL) {
        encode(&out, prepared_data, 0);
    } else {
        put_u8(&out, 'N');
    }
    return finish(out, "inputs larger than 16 MiB");
}

__attribute__((export_name("fuelbench_load")))
int fuelbench_load(char *source, size_t len) {
    /* The host leaves a byte after the source for this terminator. A NUL
       inside would end the source early, so that what loads is not what
       the host was given: such a source does not compile. */
    source[len] = '\0';
    PyObject *code = NULL;
    if (memchr(source, '\0', len) != NULL) {
        PyErr_SetString(PyExc_SyntaxError, "source code cannot contain null bytes");
    } else {
        code = Py_CompileStringExFlags(source, "solution.py", Py_file_input, NULL, -1);
    }
    free(source);
    if (code == NULL) {
        int syntax = PyErr_ExceptionMatches(PyExc_SyntaxError);
        keep_error();
        return syntax ? 1 : 2;
    }
    candidate_module = PyModule_New("solution");
    PyObject *globals = candidate_module == NULL ? NULL : PyModule_GetDict(candidate_module);
    if (globals == NULL || PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) != 0 ||
        PyDict_SetItemString(globals, "__file__", PyUnicode_FromString("solution.py")) != 0 ||
        PyDict_SetItemString(PyImport_GetModuleDict(), "solution", candidate_module) != 0) {
        keep_error();
        return 2;
    }
    phase = prepared_kind == KIND_SUITE ? PHASE_SUITE : PHASE_CANDIDATE;
    PyObject *result = PyEval_EvalCode(code, globals, globals);
    if (result == NULL) {
        keep_error();
        return 2;
    }
    entry = prepared_entry_point == NULL ? NULL : PyObject_GetAttr(candidate_module, prepared_entry_point);
    if (entry == NULL) {
        keep_error();
        return 3;
    }
    return 0;
}

static PyObject *call_class(PyObject *calls) {
    Py_ssize_t n = PyTuple_GET_SIZE(calls);
    PyObject *instance = PyObject_Call(entry, PyTuple_GET_ITEM(PyTuple_GET_ITEM(calls, 0), 1), NULL);
    if (instance == NULL) {
        return NULL;
    }
    PyObject *results = PyList_New(n);
    if (results == NULL) {
        return NULL;
    }
    Py_INCREF(Py_None);
    PyList_SET_ITEM(results, 0, Py_None);
    for (Py_ssize_t i = 1; i < n; i++) {
        PyObject *call = PyTuple_GET_ITEM(calls, i);
        PyObject *method = PyObject_GetAttr(instance, PyTuple_GET_ITEM(call, 0));
        PyObject *result = method == NULL ? NULL : PyObject_Call(method, PyTuple_GET_ITEM(call, 1), NULL);
        if (result == NULL) {
            return NULL;
        }
        PyList_SET_ITEM(results, i, result);
    }
    return results;
}

static PyObject *call_once(PyObject *input) {
    return prepared_kind == KIND_FUNCTION ? PyObject_Call(entry, input, NULL) : call_class(input);
}

/* Calls the entry point on every input of a batch, in order, in this one
   instance, and keeps each outcome: a candidate that keeps state between
   calls must still answer each one right. */
static int invoke_batch(void) {
    Py_ssize_t n = PyTuple_GET_SIZE(prepared_data);
    batch_values = calloc((size_t)n + 1, sizeof(PyObject *));
    batch_error_types = calloc((size_t)n + 1, sizeof(PyObject *));
    batch_error_values = calloc((size_t)n + 1, sizeof(PyObject *));
    if (batch_values == NULL || batch_error_types == NULL || batch_error_values == NULL) {
        compiling_forbidden = 0;
        PyErr_NoMemory();
        keep_error();
        return 1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *result = call_once(PyTuple_GET_ITEM(prepared_data, i));
        if (result == NULL) {
            PyObject *traceback = NULL;
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_SystemError, "a call failed without an exception");
            }
            PyErr_Fetch(&batch_error_types[i], &batch_error_values[i], &traceback);
        } else {
            batch_values[i] = result;
        }
    }
    compiling_forbidden = 0;
    PyGC_Disable();
    last_value = NULL;
    last_error_type = NULL;
    last_error_value = NULL;
    batch_count = n;
    return 0;
}

__attribute__((export_name("fuelbench_invoke")))
int fuelbench_invoke(int dry) {
    if (entry == NULL || (prepared_kind != KIND_FUNCTION && prepared_kind != KIND_CLASS)) {
        PyErr_SetString(PyExc_SystemError, "fuelbench_invoke without a loaded candidate");
        keep_error();
        return 1;
    }
    if (dry) {
        return 0;
    }
    compiling_forbidden = (prepared_flags & FLAG_FORBID_COMPILING) != 0;
    if (prepared_flags & FLAG_BATCH) {
        return invoke_batch();
    }
    PyObject *result = call_once(prepared_data);
    compiling_forbidden = 0;
    PyGC_Disable();
    if (result == NULL) {
        keep_error();
        return 1;
    }
    keep_value(result);
    return 0;
}

/* ---- Suites: the candidate behind a proxy ------------------------------------ */

/* Raised to the suite's test code when the candidate returns anything but
   plain built-in values; derives from BaseException so that a test's
   `except Exception` cannot swallow it. */
static PyObject *UnrepresentableResult = NULL;

typedef struct {
    PyObject_HEAD
    PyObject *target;
} Proxy;

/* What the suite's test code holds in place of the candidate: it calls the
   candidate, then lets through only a result of exact built-in types,
   recursively, so that no object with a rigged __eq__ reaches an assert. */
static PyObject *proxy_call(PyObject *self, PyObject *args, PyObject *kwargs) {
    PyObject *result = PyObject_Call(((Proxy *)self)->target, args, kwargs);
    if (result == NULL) {
        return NULL;
    }
    Out out = {0};
    encode(&out, result, 0);
    free(out.data);
    if (out.unrepresentable != NULL || out.overflow) {
        PyErr_Format(UnrepresentableResult, "the candidate returned %s, not plain built-in values",
                     out.unrepresentable != NULL ? out.unrepresentable : "a result larger than 16 MiB");
        return NULL;
    }
    return result;
}

static PyTypeObject ProxyType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fuelbench.Candidate",
    .tp_basicsize = sizeof(Proxy),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_call = proxy_call,
    .tp_doc = "The candidate, as the suite's test code sees it.",
};

__attribute__((export_name("fuelbench_check_suite")))
int fuelbench_check_suite(void) {
    if (entry == NULL || prepared_kind != KIND_SUITE) {
        PyErr_SetString(PyExc_SystemError, "fuelbench_check_suite without a loaded candidate");
        keep_error();
        return 1;
    }
    Proxy *proxy = PyObject_New(Proxy, &ProxyType);
    if (proxy == NULL) {
        keep_error();
        return 1;
    }
    Py_INCREF(entry);
    proxy->target = entry;
    /* A copy of the namespace `prepare` made from the suite's own prompt, with
       the built-ins as they were before the candidate loaded, and the entry
       point's name bound to the proxy: some tests call it by name. */
    PyObject *namespace = PyDict_Copy(PyTuple_GET_ITEM(prepared_data, 0));
    if (namespace == NULL || PyDict_SetItem(namespace, prepared_entry_point, (PyObject *)proxy) != 0 ||
        PyEval_EvalCode(PyTuple_GET_ITEM(prepared_data, 1), namespace, namespace) == NULL) {
        keep_error();
        return 1;
    }
    PyObject *check = PyDict_GetItemString(namespace, "check");
    if (check == NULL) {
        PyErr_SetString(PyExc_NameError, "the suite's test defines no check()");
        keep_error();
        return 1;
    }
    PyObject *result = PyObject_CallOneArg(check, (PyObject *)proxy);
    PyGC_Disable();
    if (result == NULL) {
        keep_error();
        return 1;
    }
    keep_value(Py_None);
    return 0;
}

/* ---- Start-up and plain programs --------------------------------------------- */

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
    if (PyStatus_Exception(status)) {
        return 1;
    }
    /* CPython lowers the limit to 600 on WASI for its default 512 KiB
       stack; ours is larger (build.sh), so code that runs natively runs
       here: the limit is CPython's usual 1000. */
    Py_SetRecursionLimit(1000);
    /* Added from C, a hook cannot be removed by Python code. */
    if (PySys_AddAuditHook(audit_hook, NULL) != 0 || PyType_Ready(&ProxyType) != 0) {
        return 1;
    }
    UnrepresentableResult = PyErr_NewException("fuelbench.UnrepresentableResult", PyExc_BaseException, NULL);
    return UnrepresentableResult == NULL ? 1 : 0;
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
    runner_run = PyObject_GetAttrString(module, "run");
    runner_prepare = PyObject_GetAttrString(module, "prepare");
    Py_DECREF(module);
    if (runner_run == NULL || runner_prepare == NULL) {
        PyErr_Print();
        return 5;
    }
    return 0;
}

__attribute__((export_name("fuelbench_run")))
int fuelbench_run(char *program, size_t len, long long seed) {
    if (runner_run == NULL) {
        free(program);
        return 70; /* EX_SOFTWARE: the snapshot was taken without a runner. */
    }
    PyObject *bytes = PyBytes_FromStringAndSize(program, (Py_ssize_t)len);
    free(program);
    if (bytes == NULL) {
        PyErr_Print();
        return 1;
    }
    PyObject *result = PyObject_CallFunction(runner_run, "OL", bytes, seed);
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
