// Compiled by DemanglerFixtureTest with g++ -O2; every mangled symbol is compared with c++filt.
// Each construct is here to make g++ emit a particular mangling feature.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace moonwalk {
namespace fixture {

struct Point {
    int x, y;
    Point operator+(const Point& o) const { return {x + o.x, y + o.y}; }
    Point& operator+=(const Point& o) { x += o.x; y += o.y; return *this; }
    bool operator<(const Point& o) const { return x < o.y; }
    bool operator==(const Point& o) const { return x == o.x && y == o.y; }
    int operator[](int i) const { return i ? y : x; }
    int operator()(int a, int b) const { return a * x + b * y; }
    explicit operator bool() const { return x || y; }
    operator long() const { return x; }
    void* operator new(std::size_t n) { return std::malloc(n); }
    void operator delete(void* p) { std::free(p); }
    void* operator new[](std::size_t n) { return std::malloc(n); }
    void operator delete[](void* p) { std::free(p); }
    Point operator-() const { return {-x, -y}; }
    Point& operator++() { ++x; return *this; }
    Point operator++(int) { Point p = *this; ++x; return p; }
    int operator->*(int Point::*m) const { return this->*m; }
};

template <typename T, int N>
struct Buffer {
    T data[N];
    template <typename F>
    void each(F&& f) { for (int i = 0; i < N; i++) f(data[i], i); }
    T& at(int i) & { return data[i]; }
    T&& take(int i) && { return static_cast<T&&>(data[i]); }
    const T& at(int i) const& { return data[i]; }
    volatile T* raw() volatile { return data; }
};

class Base {
public:
    virtual ~Base() = default;
    virtual int run(int) = 0;
};

class Derived : public virtual Base {
public:
    explicit Derived(int k) : k_(k) {}
    ~Derived() override {}
    int run(int v) override { return v * k_; }
private:
    int k_;
};

class Inheriting : public Derived {
public:
    using Derived::Derived;
};

inline namespace v2 {
struct [[gnu::abi_tag("cxx11tag")]] Tagged {
    std::string name;
};
std::string tagged_name(const Tagged& t) { return t.name; }
}

namespace {
int anonymous_helper(int v) { return v * 3 + 1; }
}

int local_statics(int v) {
    static int counter = v;
    struct Local {
        static int twice(int a) { return a * 2; }
    };
    auto add = [v](int a) { return a + v; };
    auto generic = [](auto a, auto b) { return a + b; };
    counter += Local::twice(add(v)) + generic(v, 1) + generic(1.5, 2.5);
    return counter;
}

template <typename... Args>
int count_args(Args&&... args) { return static_cast<int>(sizeof...(args)); }

template <typename T>
auto twice(T t) -> decltype(t + t) { return t + t; }

template <typename T, typename U>
auto combine(const T& t, const U& u) -> decltype(t.x + u) { return t.x + u; }

template <int N>
struct Fib { static constexpr long value = Fib<N - 1>::value + Fib<N - 2>::value; };
template <> struct Fib<1> { static constexpr long value = 1; };
template <> struct Fib<0> { static constexpr long value = 0; };

template <long V>
long constant() { return V; }

template <bool B, char C, unsigned long U>
long literals() { return B + C + static_cast<long>(U); }

int (*pick(int which))(int) { return which ? anonymous_helper : nullptr; }

void takes_function_pointers(void (*a)(int), int (Point::*b)(int, int) const, int Point::*c,
                             int (&arr)[4], const char* const* argv, std::nullptr_t) {
    if (a) a(b ? 1 : 0);
    std::printf("%d %d %s\n", c ? 1 : 0, arr[0], argv ? argv[0] : "");
}

thread_local std::string tls_name = "worker";

std::string& tls_access() { return tls_name; }

__attribute__((noinline)) static int clone_me(int mode, int v) {
    int r = v;
    for (int i = 0; i < mode; i++) {
        r = r * 31 + i;
    }
    return r;
}

struct Big { long a, b, c, d, e, f, g, h; };

__attribute__((noinline)) static long isra_me(const Big& big, int k) { return big.a * k + big.h; }

__attribute__((noinline)) int may_throw(int v) {
    if (__builtin_expect(v < 0, 0)) {
        throw std::runtime_error("negative value " + std::to_string(v));
    }
    return v + 1;
}

int partial(int v) {
    if (v < 1000) {
        return v;
    }
    std::vector<int> big(static_cast<std::size_t>(v % 97));
    for (auto& x : big) x = v++;
    return big.empty() ? 0 : big.back();
}

}  // namespace fixture
}  // namespace moonwalk

using namespace moonwalk::fixture;

extern "C" long fixture_entry(int argc) {
    long sum = 0;
    Point p{argc, 2};
    Point q = p + p;
    q += p;
    sum += q[1] + q(1, 2) + static_cast<long>(q) + (q < p) + (q == p) + (-q).x + (++q).x + (q++).x;
    sum += p->*(&Point::y);
    Point* heap = new Point{1, 2};
    delete heap;
    Point* arr = new Point[3];
    delete[] arr;
    Buffer<double, 4> buf{};
    buf.each([&sum](double& d, int i) { d = i; sum += i; });
    sum += static_cast<long>(buf.at(1)) + static_cast<long>(Buffer<double, 4>{}.take(2));
    Derived d(argc);
    Inheriting in(argc + 1);
    Base& b = in;
    sum += d.run(argc) + b.run(2);
    Tagged t{"tag"};
    sum += static_cast<long>(tagged_name(t).size());
    sum += local_statics(argc);
    sum += count_args(1, 2.0, "three", p) + count_args();
    sum += static_cast<long>(twice(argc) + twice(1.5));
    sum += combine(p, 2L);
    sum += Fib<10>::value + constant<-7>() + literals<true, 'x', 42ul>();
    if (auto f = pick(argc)) sum += f(argc);
    int four[4] = {1, 2, 3, 4};
    const char* argv[] = {"x", nullptr};
    takes_function_pointers(nullptr, &Point::operator(), &Point::x, four, argv, nullptr);
    sum += static_cast<long>(tls_access().size());
    sum += clone_me(5, argc) + clone_me(5, argc + 1) + clone_me(5, argc + 2);
    Big big{argc, 2, 3, 4, 5, 6, 7, 8};
    sum += isra_me(big, 3) + isra_me(big, argc);
    try {
        sum += may_throw(argc - 10);
    } catch (const std::exception& e) {
        sum += 1;
    }
    sum += partial(argc) + partial(argc * 1000);
    std::map<std::string, std::vector<std::pair<int, double>>> m;
    m["k"].emplace_back(1, 2.0);
    std::function<int(int)> fn = [&](int v) { return v + static_cast<int>(m.size()); };
    sum += fn(argc);
    auto sp = std::make_shared<Derived>(3);
    auto up = std::make_unique<std::vector<std::string>>(2, "s");
    sum += sp->run(1) + static_cast<long>(up->size());
    return sum;
}
