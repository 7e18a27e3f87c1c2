"""A small program to try the sandbox with: scripts/fuelbench.sh sandbox run examples/primes.py"""


def primes_below(limit):
    sieve = bytearray([1]) * limit
    sieve[:2] = b"\x00\x00"
    for n in range(2, int(limit**0.5) + 1):
        if sieve[n]:
            sieve[n * n :: n] = bytearray(len(range(n * n, limit, n)))
    return [n for n, is_prime in enumerate(sieve) if is_prime]


if __name__ == "__main__":
    found = primes_below(100_000)
    print(f"{len(found)} primes below 100,000; the last is {found[-1]}")
