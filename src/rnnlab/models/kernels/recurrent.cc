// rnnlab's recurrent kernels: whole-sequence forward and backward passes of Keras' recurrent
// layers on CPU, called from JAX through the XLA FFI (rnnlab/models/kernels/ops.py). Same
// weights, same layouts and the same numbers as Keras' layers, to float rounding.
//
// Buffers are batch-major, as Keras holds them: inputs x [B, T, D]; states and outputs by step
// [B, T, H]; weights as Keras stores them (kernel [D, nH], recurrent kernel [H, nH], bias [nH],
// gates in Keras' order). mask [B, T] is 1 at real steps; a masked step keeps the previous states.
// With `reverse` (Keras' go_backwards) step s reads input time T-1-s; outputs stay in step order.
//
// Work: batch rows are independent, so rows go through the whole sequence in blocks of kBlock
// (each row's data is then read in order and the block's states stay in cache), and threads take
// contiguous runs of whole blocks. Each block adds its share of the weight gradients into its own
// slot and the slots are summed in block order: results do not depend on the thread count.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include "xla/ffi/api/ffi.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define RNNLAB_AVX2 1
#endif

namespace ffi = xla::ffi;

namespace {

// ---------------------------------------------------------------- element-wise functions

inline float exp_s(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  return p * __builtin_bit_cast(float, e);
}
inline float sigm_s(float x) { return 1.0f / (1.0f + exp_s(-x)); }
inline float tanh_s(float x) { return 2.0f / (1.0f + exp_s(-2.0f * x)) - 1.0f; }

#ifdef RNNLAB_AVX2
inline __m256 exp_v(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
  x = _mm256_min_ps(x, _mm256_set1_ps(88.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}
// 1 / d with one Newton step on the hardware estimate (about 23 correct bits).
inline __m256 recip_v(__m256 d) {
  const __m256 r = _mm256_rcp_ps(d);
  return _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
}
inline __m256 sigm_v(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return recip_v(_mm256_add_ps(one, exp_v(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}
inline __m256 tanh_v(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 s = recip_v(_mm256_add_ps(one, exp_v(_mm256_mul_ps(x, _mm256_set1_ps(-2.0f)))));
  return _mm256_fmsub_ps(s, _mm256_set1_ps(2.0f), one);
}
#endif

// ---------------------------------------------------------------- small matrix products

#ifdef RNNLAB_AVX2
// C[r, 0:16] = C0[r, 0:16] + sum_k A[r*lda + k*ka] * W[k*ldw + 0:16], R rows (R <= 6) held in
// registers; C0 may be C.
template <int R>
inline void micro(int64_t K, const float* __restrict a, int64_t lda, int64_t ka, const float* __restrict w,
                  int64_t ldw, const float* c0, int64_t ldc0, float* c, int64_t ldc) {
  __m256 acc0[R], acc1[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    acc0[r] = _mm256_loadu_ps(c0 + r * ldc0);
    acc1[r] = _mm256_loadu_ps(c0 + r * ldc0 + 8);
  }
#pragma GCC unroll 2
  for (int64_t k = 0; k < K; ++k) {
    const __m256 w0 = _mm256_loadu_ps(w + k * ldw), w1 = _mm256_loadu_ps(w + k * ldw + 8);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 s = _mm256_broadcast_ss(a + r * lda + k * ka);
      acc0[r] = _mm256_fmadd_ps(s, w0, acc0[r]);
      acc1[r] = _mm256_fmadd_ps(s, w1, acc1[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(c + r * ldc, acc0[r]);
    _mm256_storeu_ps(c + r * ldc + 8, acc1[r]);
  }
}
#endif

// C[rows, N] = C0[rows, N] + A[rows, K] @ W[K, N]; A is read at a[i*lda + k*ka], W, C0 and C are
// row-major with their own leading dimensions (C0 may be C).
void gemm(int64_t rows, int64_t K, int64_t N, const float* a, int64_t lda, int64_t ka,
                                    const float* w, int64_t ldw, const float* c0, int64_t ldc0, float* c,
                                    int64_t ldc) {
  int64_t n16 = 0;
#ifdef RNNLAB_AVX2
  n16 = N - N % 16;
  int64_t r = 0;
  for (; r + 6 <= rows; r += 6)
    for (int64_t n = 0; n < n16; n += 16)
      micro<6>(K, a + r * lda, lda, ka, w + n, ldw, c0 + r * ldc0 + n, ldc0, c + r * ldc + n, ldc);
  const int64_t left = rows - r;
  for (int64_t n = 0; n < n16 && left > 0; n += 16) {
    const float* ar = a + r * lda;
    const float* c0r = c0 + r * ldc0 + n;
    float* cr = c + r * ldc + n;
    switch (left) {
      case 5: micro<5>(K, ar, lda, ka, w + n, ldw, c0r, ldc0, cr, ldc); break;
      case 4: micro<4>(K, ar, lda, ka, w + n, ldw, c0r, ldc0, cr, ldc); break;
      case 3: micro<3>(K, ar, lda, ka, w + n, ldw, c0r, ldc0, cr, ldc); break;
      case 2: micro<2>(K, ar, lda, ka, w + n, ldw, c0r, ldc0, cr, ldc); break;
      default: micro<1>(K, ar, lda, ka, w + n, ldw, c0r, ldc0, cr, ldc); break;
    }
  }
#endif
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t n = n16; n < N; ++n) {
      float s = c0[i * ldc0 + n];
      for (int64_t k = 0; k < K; ++k) s += a[i * lda + k * ka] * w[k * ldw + n];
      c[i * ldc + n] = s;
    }
}

// ---------------------------------------------------------------- the recurrence

// Large outputs are written once per call into memory the allocator may have just mapped: asking
// for huge pages turns thousands of page faults into a few (the kernel ignores the advice when
// transparent huge pages are off).
void advise_huge(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t{1} << 21;
  const uintptr_t start = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (end > start) madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

// A read-only block of zeros, at least n floats long.
const float* zeros_for(int64_t n) {
  static thread_local std::vector<float> zeros;
  if (static_cast<int64_t>(zeros.size()) < n) zeros.assign(n, 0.0f);
  return zeros.data();
}

constexpr int64_t kBlock = 6;

struct Seq {
  int64_t B, T, D, H;
  bool reverse;
  const float* mask;  // [B, T], by input time
  int64_t in_t(int64_t s) const { return reverse ? T - 1 - s : s; }
  bool real(int64_t b, int64_t s) const { return mask[b * T + in_t(s)] != 0.0f; }
};

// xw[r, s, :] = x[b, in_t(s), :] @ w + bias for the rows of a block starting at batch row rb.
void project(const Seq& q, int64_t rb, int64_t R, int64_t N, const float* x, const float* w, const float* bias,
             float* xw) {
  for (int64_t r = 0; r < R; ++r) {
    const float* xr = x + (rb + r) * q.T * q.D;
    if (!q.reverse)
      gemm(q.T, q.D, N, xr, q.D, 1, w, N, bias, 0, xw + r * q.T * N, N);
    else
      gemm(q.T, q.D, N, xr + (q.T - 1) * q.D, -q.D, 1, w, N, bias, 0, xw + r * q.T * N, N);
  }
}

// The weight gradients of one row from its pre-activation gradients dz [T, N] (by step):
// dw += x^T dz, db += sum_s dz, and dx = dz w^T (wt is w^T, [N, D]).
void input_grads(const Seq& q, int64_t b, int64_t N, const float* dz, const float* x, const float* wt,
                 float* dx, float* dw, float* db) {
  const int64_t T = q.T, D = q.D;
  const float* xr = x + b * T * D;
  float* dxr = dx + b * T * D;
  if (!q.reverse) {
    gemm(D, T, N, xr, 1, D, dz, N, dw, N, dw, N);
    gemm(T, N, D, dz, N, 1, wt, D, zeros_for(D), 0, dxr, D);
  } else {
    gemm(D, T, N, xr + (T - 1) * D, 1, -D, dz, N, dw, N, dw, N);
    gemm(T, N, D, dz, N, 1, wt, D, zeros_for(D), 0, dxr + (T - 1) * D, -D);
  }
  for (int64_t t = 0; t < T; ++t)
    for (int64_t n = 0; n < N; ++n) db[n] += dz[t * N + n];
}

// du[:, 0:N] += sum_s h_{s-1}^T dz_s for batch row b (dz [T, N] with leading dimension lddz): h_{-1}
// is the row's initial state, then its outputs shifted by one step.
void recurrent_grads(const Seq& q, int64_t b, int64_t N, const float* dz, int64_t lddz, const float* h0,
                     const float* hs, float* du, int64_t lddu) {
  gemm(q.H, 1, N, h0 + b * q.H, 1, q.H, dz, lddz, du, lddu, du, lddu);
  if (q.T > 1) gemm(q.H, q.T - 1, N, hs + b * q.T * q.H, 1, q.H, dz + lddz, lddz, du, lddu, du, lddu);
}

int64_t block_count(int64_t B) { return (B + kBlock - 1) / kBlock; }

// Runs body(first_block, end_block) over the blocks of B rows on up to `threads` threads.
template <typename F>
void for_blocks(int64_t B, int64_t threads, F&& body) {
  const int64_t blocks = block_count(B);
  int64_t parts = threads < 1 ? 1 : threads;
  if (parts > blocks) parts = blocks;
  if (parts <= 1) {
    body(int64_t{0}, blocks);
    return;
  }
  std::vector<std::thread> pool;
  for (int64_t i = 1; i < parts; ++i)
    pool.emplace_back([&body, i, parts, blocks] { body(blocks * i / parts, blocks * (i + 1) / parts); });
  body(int64_t{0}, blocks / parts);
  for (auto& th : pool) th.join();
}

// Sums per-block slots of `size` floats, in block order, into out.
void sum_slots(const std::vector<float>& slots, int64_t blocks, int64_t size, int64_t offset, int64_t stride,
               float* out) {
  for (int64_t i = 0; i < size; ++i) out[i] = 0.0f;
  for (int64_t k = 0; k < blocks; ++k) {
    const float* s = slots.data() + k * stride + offset;
    for (int64_t i = 0; i < size; ++i) out[i] += s[i];
  }
}

// ---------------------------------------------------------------- LSTM (gates i, f, c, o)

// Forward for blocks [k0, k1): activated gates, cell states and outputs (the carried states) by step.
// Without gates and cs (prediction: nothing to differentiate) the gates and cell states of a step
// live in a small scratch instead, and c_last [B, H] receives the last cell states.
void lstm_forward(const Seq& q, int64_t k0, int64_t k1, const float* x, const float* w, const float* u,
                  const float* bias, const float* h0, const float* c0, float* hs, float* cs, float* gates,
                  float* c_last) {
  const int64_t T = q.T, H = q.H, G = 4 * H;
  const bool keep = gates != nullptr;
  std::vector<float> xwbuf(kBlock * T * G), scratch(keep ? 0 : kBlock * (G + 2 * H));
  float* xw = xwbuf.data();
  for (int64_t k = k0; k < k1; ++k) {
    const int64_t rb = k * kBlock, R = q.B - rb < kBlock ? q.B - rb : kBlock;
    project(q, rb, R, G, x, w, bias, xw);
    for (int64_t t = 0; t < T; ++t) {
      // pre-activations, activated in place below: by step, or in the scratch
      float* z = keep ? gates + (rb * T + t) * G : scratch.data();
      const int64_t ldz = keep ? T * G : G;
      float* c_now = keep ? nullptr : scratch.data() + kBlock * G + (t % 2) * kBlock * H;
      const float* c_before = keep ? nullptr : scratch.data() + kBlock * G + ((t + 1) % 2) * kBlock * H;
      if (t == 0)
        gemm(R, H, G, h0 + rb * H, H, 1, u, G, xw, T * G, z, ldz);
      else
        gemm(R, H, G, hs + (rb * T + t - 1) * H, T * H, 1, u, G, xw + t * G, T * G, z, ldz);
      for (int64_t r = 0; r < R; ++r) {
        const int64_t b = rb + r, row = b * T + t;
        const float* __restrict cpr = t == 0 ? c0 + b * H : keep ? cs + (row - 1) * H : c_before + r * H;
        const float* __restrict hpr = t == 0 ? h0 + b * H : hs + (row - 1) * H;
        float* __restrict g = z + r * ldz;
        float* __restrict c = keep ? cs + row * H : c_now + r * H;
        float* __restrict h = hs + row * H;
        if (!q.real(b, t)) {
          std::memcpy(c, cpr, sizeof(float) * H);
          std::memcpy(h, hpr, sizeof(float) * H);
          continue;
        }
        int64_t j = 0;
#ifdef RNNLAB_AVX2
        for (; j + 8 <= H; j += 8) {
          const __m256 i = sigm_v(_mm256_loadu_ps(g + j));
          const __m256 f = sigm_v(_mm256_loadu_ps(g + H + j));
          const __m256 gg = tanh_v(_mm256_loadu_ps(g + 2 * H + j));
          const __m256 o = sigm_v(_mm256_loadu_ps(g + 3 * H + j));
          const __m256 cn = _mm256_fmadd_ps(f, _mm256_loadu_ps(cpr + j), _mm256_mul_ps(i, gg));
          _mm256_storeu_ps(g + j, i);
          _mm256_storeu_ps(g + H + j, f);
          _mm256_storeu_ps(g + 2 * H + j, gg);
          _mm256_storeu_ps(g + 3 * H + j, o);
          _mm256_storeu_ps(c + j, cn);
          _mm256_storeu_ps(h + j, _mm256_mul_ps(o, tanh_v(cn)));
        }
#endif
        for (; j < H; ++j) {
          const float i = sigm_s(g[j]), f = sigm_s(g[H + j]), gg = tanh_s(g[2 * H + j]), o = sigm_s(g[3 * H + j]);
          const float cn = f * cpr[j] + i * gg;
          g[j] = i;
          g[H + j] = f;
          g[2 * H + j] = gg;
          g[3 * H + j] = o;
          c[j] = cn;
          h[j] = o * tanh_s(cn);
        }
      }
    }
    if (!keep) {
      const float* c_end = scratch.data() + kBlock * G + ((T - 1) % 2) * kBlock * H;
      std::memcpy(c_last + rb * H, T > 0 ? c_end : c0 + rb * H, sizeof(float) * R * H);
    }
  }
}

// Backward for blocks [k0, k1): dx and the initial states' gradients of their rows, and each block's
// dW, dU, db in its slot (stride floats: dW [D, G], dU [H, G], db [G]).
void lstm_backward(const Seq& q, int64_t k0, int64_t k1, const float* x, const float* wt, const float* ut,
                   const float* h0, const float* c0, const float* hs, const float* cs, const float* gates,
                   const float* dhs, const float* dct, float* dx, float* dh0, float* dc0, float* slots,
                   int64_t stride) {
  const int64_t T = q.T, D = q.D, H = q.H, G = 4 * H;
  std::vector<float> scratch(kBlock * T * G + 3 * kBlock * H);
  float* dz = scratch.data();                    // [R, T, G] pre-activation gradients of the block
  float* dc = dz + kBlock * T * G;               // [R, H] cell-state gradient carried back
  float* dh = dc + kBlock * H;                   // [R, H] output gradient carried back
  float* pass = dh + kBlock * H;                 // [R, H] what a masked step passes back unchanged
  for (int64_t k = k0; k < k1; ++k) {
    const int64_t rb = k * kBlock, R = q.B - rb < kBlock ? q.B - rb : kBlock;
    float* dw = slots + k * stride;
    float* du = dw + D * G;
    float* db = du + H * G;
    std::memcpy(dc, dct + rb * H, sizeof(float) * R * H);
    std::memset(dh, 0, sizeof(float) * R * H);
    for (int64_t t = T - 1; t >= 0; --t) {
      for (int64_t r = 0; r < R; ++r) {
        const int64_t b = rb + r, row = b * T + t;
        const float* __restrict dy = dhs + row * H;
        float* __restrict dr = dz + (r * T + t) * G;
        float* __restrict dcr = dc + r * H;
        float* __restrict dhr = dh + r * H;
        if (!q.real(b, t)) {
          std::memset(dr, 0, sizeof(float) * G);
          for (int64_t j = 0; j < H; ++j) pass[r * H + j] = dy[j] + dhr[j];
          continue;
        }
        std::memset(pass + r * H, 0, sizeof(float) * H);
        const float* __restrict g = gates + row * G;
        const float* __restrict c = cs + row * H;
        const float* __restrict cprev = t == 0 ? c0 + b * H : cs + (row - 1) * H;
        int64_t j = 0;
#ifdef RNNLAB_AVX2
        const __m256 one = _mm256_set1_ps(1.0f);
        for (; j + 8 <= H; j += 8) {
          const __m256 i = _mm256_loadu_ps(g + j), f = _mm256_loadu_ps(g + H + j);
          const __m256 gg = _mm256_loadu_ps(g + 2 * H + j), o = _mm256_loadu_ps(g + 3 * H + j);
          const __m256 tc = tanh_v(_mm256_loadu_ps(c + j));
          const __m256 dhj = _mm256_add_ps(_mm256_loadu_ps(dy + j), _mm256_loadu_ps(dhr + j));
          const __m256 dcj =
              _mm256_fmadd_ps(_mm256_mul_ps(dhj, o), _mm256_fnmadd_ps(tc, tc, one), _mm256_loadu_ps(dcr + j));
          _mm256_storeu_ps(dr + j, _mm256_mul_ps(_mm256_mul_ps(dcj, gg), _mm256_mul_ps(i, _mm256_sub_ps(one, i))));
          _mm256_storeu_ps(dr + H + j, _mm256_mul_ps(_mm256_mul_ps(dcj, _mm256_loadu_ps(cprev + j)),
                                                     _mm256_mul_ps(f, _mm256_sub_ps(one, f))));
          _mm256_storeu_ps(dr + 2 * H + j, _mm256_mul_ps(_mm256_mul_ps(dcj, i), _mm256_fnmadd_ps(gg, gg, one)));
          _mm256_storeu_ps(dr + 3 * H + j,
                           _mm256_mul_ps(_mm256_mul_ps(dhj, tc), _mm256_mul_ps(o, _mm256_sub_ps(one, o))));
          _mm256_storeu_ps(dcr + j, _mm256_mul_ps(dcj, f));
        }
#endif
        for (; j < H; ++j) {
          const float i = g[j], f = g[H + j], gg = g[2 * H + j], o = g[3 * H + j];
          const float tc = tanh_s(c[j]);
          const float dhj = dy[j] + dhr[j];
          const float dcj = dcr[j] + dhj * o * (1.0f - tc * tc);
          dr[j] = dcj * gg * i * (1.0f - i);
          dr[H + j] = dcj * cprev[j] * f * (1.0f - f);
          dr[2 * H + j] = dcj * i * (1.0f - gg * gg);
          dr[3 * H + j] = dhj * tc * o * (1.0f - o);
          dcr[j] = dcj * f;
        }
      }
      gemm(R, G, H, dz + t * G, T * G, 1, ut, H, pass, H, dh, H);  // dh_{t-1} = dz_t U^T (+ pass)
    }
    std::memcpy(dh0 + rb * H, dh, sizeof(float) * R * H);
    std::memcpy(dc0 + rb * H, dc, sizeof(float) * R * H);
    for (int64_t r = 0; r < R; ++r) {
      const int64_t b = rb + r;
      const float* dzr = dz + r * T * G;
      recurrent_grads(q, b, G, dzr, G, h0, hs, du, G);
      input_grads(q, b, G, dzr, x, wt, dx, dw, db);
    }
  }
}

ffi::Error LstmForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> mask, ffi::Buffer<ffi::F32> w,
                           ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> bias, ffi::Buffer<ffi::F32> h0,
                           ffi::Buffer<ffi::F32> c0, bool reverse, int64_t threads,
                           ffi::ResultBuffer<ffi::F32> hs, ffi::ResultBuffer<ffi::F32> cs,
                           ffi::ResultBuffer<ffi::F32> gates) {
  const auto xd = x.dimensions(), ud = u.dimensions();
  if (xd.size() != 3 || ud.size() != 2 || ud[1] != 4 * ud[0])
    return ffi::Error::InvalidArgument("rnnlab lstm: x must be [B, T, D] and the recurrent kernel [H, 4H]");
  const Seq q{xd[0], xd[1], xd[2], ud[0], reverse, mask.typed_data()};
  advise_huge(hs->typed_data(), sizeof(float) * q.B * q.T * q.H);
  advise_huge(cs->typed_data(), sizeof(float) * q.B * q.T * q.H);
  advise_huge(gates->typed_data(), sizeof(float) * q.B * q.T * 4 * q.H);
  for_blocks(q.B, threads, [&](int64_t k0, int64_t k1) {
    lstm_forward(q, k0, k1, x.typed_data(), w.typed_data(), u.typed_data(), bias.typed_data(), h0.typed_data(),
                 c0.typed_data(), hs->typed_data(), cs->typed_data(), gates->typed_data(), nullptr);
  });
  return ffi::Error::Success();
}

ffi::Error LstmPredictImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> mask, ffi::Buffer<ffi::F32> w,
                           ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> bias, ffi::Buffer<ffi::F32> h0,
                           ffi::Buffer<ffi::F32> c0, bool reverse, int64_t threads,
                           ffi::ResultBuffer<ffi::F32> hs, ffi::ResultBuffer<ffi::F32> c_last) {
  const auto xd = x.dimensions(), ud = u.dimensions();
  if (xd.size() != 3 || ud.size() != 2 || ud[1] != 4 * ud[0])
    return ffi::Error::InvalidArgument("rnnlab lstm: x must be [B, T, D] and the recurrent kernel [H, 4H]");
  const Seq q{xd[0], xd[1], xd[2], ud[0], reverse, mask.typed_data()};
  for_blocks(q.B, threads, [&](int64_t k0, int64_t k1) {
    lstm_forward(q, k0, k1, x.typed_data(), w.typed_data(), u.typed_data(), bias.typed_data(), h0.typed_data(),
                 c0.typed_data(), hs->typed_data(), nullptr, nullptr, c_last->typed_data());
  });
  return ffi::Error::Success();
}

ffi::Error LstmBackwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> mask, ffi::Buffer<ffi::F32> wt,
                            ffi::Buffer<ffi::F32> ut, ffi::Buffer<ffi::F32> h0, ffi::Buffer<ffi::F32> c0,
                            ffi::Buffer<ffi::F32> hs, ffi::Buffer<ffi::F32> cs, ffi::Buffer<ffi::F32> gates,
                            ffi::Buffer<ffi::F32> dhs, ffi::Buffer<ffi::F32> dct, bool reverse, int64_t threads,
                            ffi::ResultBuffer<ffi::F32> dx, ffi::ResultBuffer<ffi::F32> dw,
                            ffi::ResultBuffer<ffi::F32> du, ffi::ResultBuffer<ffi::F32> db,
                            ffi::ResultBuffer<ffi::F32> dh0, ffi::ResultBuffer<ffi::F32> dc0) {
  const auto xd = x.dimensions();
  const Seq q{xd[0], xd[1], xd[2], cs.dimensions()[2], reverse, mask.typed_data()};
  const int64_t D = q.D, H = q.H, G = 4 * H, stride = D * G + H * G + G, blocks = block_count(q.B);
  std::vector<float> slots(static_cast<size_t>(blocks * stride), 0.0f);
  advise_huge(dx->typed_data(), sizeof(float) * q.B * q.T * D);
  for_blocks(q.B, threads, [&](int64_t k0, int64_t k1) {
    lstm_backward(q, k0, k1, x.typed_data(), wt.typed_data(), ut.typed_data(), h0.typed_data(), c0.typed_data(),
                  hs.typed_data(), cs.typed_data(), gates.typed_data(), dhs.typed_data(), dct.typed_data(),
                  dx->typed_data(), dh0->typed_data(), dc0->typed_data(), slots.data(), stride);
  });
  sum_slots(slots, blocks, D * G, 0, stride, dw->typed_data());
  sum_slots(slots, blocks, H * G, D * G, stride, du->typed_data());
  sum_slots(slots, blocks, G, D * G + H * G, stride, db->typed_data());
  return ffi::Error::Success();
}

// ---------------------------------------------------------------- SimpleRNN (tanh)

void simple_forward(const Seq& q, int64_t k0, int64_t k1, const float* x, const float* w, const float* u,
                    const float* bias, const float* h0, float* hs) {
  const int64_t T = q.T, H = q.H;
  std::vector<float> xwbuf(kBlock * T * H), zbuf(kBlock * H);
  float* xw = xwbuf.data();
  float* z = zbuf.data();
  for (int64_t k = k0; k < k1; ++k) {
    const int64_t rb = k * kBlock, R = q.B - rb < kBlock ? q.B - rb : kBlock;
    project(q, rb, R, H, x, w, bias, xw);
    for (int64_t t = 0; t < T; ++t) {
      if (t == 0)
        gemm(R, H, H, h0 + rb * H, H, 1, u, H, xw, T * H, z, H);
      else
        gemm(R, H, H, hs + (rb * T + t - 1) * H, T * H, 1, u, H, xw + t * H, T * H, z, H);
      for (int64_t r = 0; r < R; ++r) {
        const int64_t b = rb + r, row = b * T + t;
        const float* hpr = t == 0 ? h0 + b * H : hs + (row - 1) * H;
        float* h = hs + row * H;
        if (!q.real(b, t)) {
          std::memcpy(h, hpr, sizeof(float) * H);
          continue;
        }
        const float* zr = z + r * H;
        int64_t j = 0;
#ifdef RNNLAB_AVX2
        for (; j + 8 <= H; j += 8) _mm256_storeu_ps(h + j, tanh_v(_mm256_loadu_ps(zr + j)));
#endif
        for (; j < H; ++j) h[j] = tanh_s(zr[j]);
      }
    }
  }
}

void simple_backward(const Seq& q, int64_t k0, int64_t k1, const float* x, const float* wt, const float* ut,
                     const float* h0, const float* hs, const float* dhs, float* dx, float* dh0, float* slots,
                     int64_t stride) {
  const int64_t T = q.T, D = q.D, H = q.H;
  std::vector<float> scratch(kBlock * T * H + 2 * kBlock * H);
  float* dz = scratch.data();           // [R, T, H]
  float* dh = dz + kBlock * T * H;      // [R, H] carried back
  float* pass = dh + kBlock * H;        // [R, H] what goes back around the matrix product
  for (int64_t k = k0; k < k1; ++k) {
    const int64_t rb = k * kBlock, R = q.B - rb < kBlock ? q.B - rb : kBlock;
    float* dw = slots + k * stride;
    float* du = dw + D * H;
    float* db = du + H * H;
    std::memset(dh, 0, sizeof(float) * R * H);
    for (int64_t t = T - 1; t >= 0; --t) {
      for (int64_t r = 0; r < R; ++r) {
        const int64_t b = rb + r, row = b * T + t;
        const float* dy = dhs + row * H;
        float* dr = dz + (r * T + t) * H;
        float* dhr = dh + r * H;
        float* pr = pass + r * H;
        if (!q.real(b, t)) {
          std::memset(dr, 0, sizeof(float) * H);
          for (int64_t j = 0; j < H; ++j) pr[j] = dy[j] + dhr[j];
          continue;
        }
        const float* h = hs + row * H;
        for (int64_t j = 0; j < H; ++j) {
          dr[j] = (dy[j] + dhr[j]) * (1.0f - h[j] * h[j]);
          pr[j] = 0.0f;
        }
      }
      gemm(R, H, H, dz + t * H, T * H, 1, ut, H, pass, H, dh, H);  // dh_{t-1} = dz_t U^T (+ pass)
    }
    std::memcpy(dh0 + rb * H, dh, sizeof(float) * R * H);
    for (int64_t r = 0; r < R; ++r) {
      const int64_t b = rb + r;
      const float* dzr = dz + r * T * H;
      recurrent_grads(q, b, H, dzr, H, h0, hs, du, H);
      input_grads(q, b, H, dzr, x, wt, dx, dw, db);
    }
  }
}

// ---------------------------------------------------------------- GRU (gates z, r, h)
//
// reset_after (Keras' default): hh = tanh(x_h + r * (h U_h + b_rec_h)), with a recurrent bias,
// one matrix product per step. reset before (reset_after=False, the original GRU):
// hh = tanh(x_h + (r * h) U_h), two products per step. Then h = z * h_prev + (1 - z) * hh.
// Residuals by step: z, r, hh and (reset_after) the recurrent part of h before the reset gate.

void gru_forward(const Seq& q, bool reset_after, int64_t k0, int64_t k1, const float* x, const float* w,
                 const float* u, const float* bias, const float* h0, float* hs, float* gates) {
  const int64_t T = q.T, H = q.H, N = 3 * H, S = reset_after ? 4 * H : 3 * H;  // S: residual width
  const float* bias_in = bias;
  const float* bias_rec = reset_after ? bias + N : nullptr;
  // Without gates (prediction) a step's residuals live in a scratch of one step.
  std::vector<float> xwbuf(kBlock * T * N), zbuf(kBlock * N), rhbuf(kBlock * H), gbuf(gates ? 0 : kBlock * S);
  float* xw = xwbuf.data();
  float* z = zbuf.data();    // [R, N] recurrent pre-activations of this step
  float* rh = rhbuf.data();  // [R, H] r * h_prev (reset before)
  for (int64_t k = k0; k < k1; ++k) {
    const int64_t rb = k * kBlock, R = q.B - rb < kBlock ? q.B - rb : kBlock;
    project(q, rb, R, N, x, w, bias_in, xw);
    for (int64_t t = 0; t < T; ++t) {
      const float* hp = t == 0 ? h0 + rb * H : hs + (rb * T + t - 1) * H;
      const int64_t ldh = t == 0 ? H : T * H;
      if (reset_after)
        gemm(R, H, N, hp, ldh, 1, u, N, bias_rec, 0, z, N);
      else
        gemm(R, H, 2 * H, hp, ldh, 1, u, N, zeros_for(2 * H), 0, z, N);
      for (int64_t r = 0; r < R; ++r) {
        const int64_t b = rb + r, row = b * T + t;
        const float* hpr = hp + r * ldh;
        const float* xr = xw + (r * T + t) * N;
        float* g = gates ? gates + row * S : gbuf.data() + r * S;
        const float* zr = z + r * N;
        for (int64_t j = 0; j < H; ++j) {
          g[j] = sigm_s(xr[j] + zr[j]);
          g[H + j] = sigm_s(xr[H + j] + zr[H + j]);
          if (!reset_after) rh[r * H + j] = g[H + j] * hpr[j];
        }
      }
      if (!reset_after)  // z[:, 2H:] = (r * h_prev) U_h
        gemm(R, H, H, rh, H, 1, u + 2 * H, N, zeros_for(H), 0, z + 2 * H, N);
      for (int64_t r = 0; r < R; ++r) {
        const int64_t b = rb + r, row = b * T + t;
        const float* hpr = hp + r * ldh;
        float* h = hs + row * H;
        if (!q.real(b, t)) {
          std::memcpy(h, hpr, sizeof(float) * H);
          continue;
        }
        const float* xr = xw + (r * T + t) * N;
        const float* zr = z + r * N;
        float* g = gates ? gates + row * S : gbuf.data() + r * S;
        int64_t j = 0;
#ifdef RNNLAB_AVX2
        const __m256 one = _mm256_set1_ps(1.0f);
        for (; j + 8 <= H; j += 8) {
          const __m256 zg = _mm256_loadu_ps(g + j), rg = _mm256_loadu_ps(g + H + j);
          const __m256 rec = _mm256_loadu_ps(zr + 2 * H + j);
          const __m256 pre = reset_after ? _mm256_fmadd_ps(rg, rec, _mm256_loadu_ps(xr + 2 * H + j))
                                         : _mm256_add_ps(_mm256_loadu_ps(xr + 2 * H + j), rec);
          const __m256 hh = tanh_v(pre);
          _mm256_storeu_ps(g + 2 * H + j, hh);
          if (reset_after) _mm256_storeu_ps(g + 3 * H + j, rec);
          const __m256 hn = _mm256_fmadd_ps(zg, _mm256_loadu_ps(hpr + j), _mm256_mul_ps(_mm256_sub_ps(one, zg), hh));
          _mm256_storeu_ps(h + j, hn);
        }
#endif
        for (; j < H; ++j) {
          const float zg = g[j], rg = g[H + j], rec = zr[2 * H + j];
          const float hh = tanh_s(reset_after ? xr[2 * H + j] + rg * rec : xr[2 * H + j] + rec);
          g[2 * H + j] = hh;
          if (reset_after) g[3 * H + j] = rec;
          h[j] = zg * hpr[j] + (1.0f - zg) * hh;
        }
      }
    }
  }
}

// Slot layout: dW [D, 3H], dU [H, 3H], db_in [3H], then (reset_after) db_rec [3H].
void gru_backward(const Seq& q, bool reset_after, int64_t k0, int64_t k1, const float* x, const float* wt,
                  const float* ut, const float* h0, const float* hs, const float* gates, const float* dhs,
                  float* dx, float* dh0, float* slots, int64_t stride) {
  const int64_t T = q.T, D = q.D, H = q.H, N = 3 * H, S = reset_after ? 4 * H : 3 * H;
  std::vector<float> scratch(2 * kBlock * T * N + kBlock * T * H + 3 * kBlock * H);
  float* dxw = scratch.data();          // [R, T, N] gradients of the input projections
  float* drec = dxw + kBlock * T * N;   // [R, T, N] gradients of the recurrent products (reset_after)
  float* rhs = drec + kBlock * T * N;   // [R, T, H] r * h_prev by step (reset before)
  float* dh = rhs + kBlock * T * H;     // [R, H] carried back
  float* pass = dh + kBlock * H;        // [R, H] the part of dh_{t-1} outside the matrix products
  float* drh = pass + kBlock * H;       // [R, H] gradient of r * h_prev (reset before)
  for (int64_t k = k0; k < k1; ++k) {
    const int64_t rb = k * kBlock, R = q.B - rb < kBlock ? q.B - rb : kBlock;
    float* dw = slots + k * stride;
    float* du = dw + D * N;
    float* db = du + H * N;
    float* db_rec = db + N;
    std::memset(dh, 0, sizeof(float) * R * H);
    for (int64_t t = T - 1; t >= 0; --t) {
      for (int64_t r = 0; r < R; ++r) {
        const int64_t b = rb + r, row = b * T + t;
        const float* dy = dhs + row * H;
        const float* hpr = t == 0 ? h0 + b * H : hs + (row - 1) * H;
        float* dr = dxw + (r * T + t) * N;
        float* dc = drec + (r * T + t) * N;
        float* pr = pass + r * H;
        float* dhr = dh + r * H;
        if (!q.real(b, t)) {
          std::memset(dr, 0, sizeof(float) * N);
          if (reset_after) std::memset(dc, 0, sizeof(float) * N);
          if (!reset_after) std::memset(rhs + (r * T + t) * H, 0, sizeof(float) * H);
          for (int64_t j = 0; j < H; ++j) pr[j] = dy[j] + dhr[j];
          continue;
        }
        const float* g = gates + row * S;
        for (int64_t j = 0; j < H; ++j) {
          const float zg = g[j], rg = g[H + j], hh = g[2 * H + j];
          const float d = dy[j] + dhr[j];
          const float dzp = d * (hpr[j] - hh) * zg * (1.0f - zg);
          const float dhp = d * (1.0f - zg) * (1.0f - hh * hh);
          dr[j] = dzp;
          dr[2 * H + j] = dhp;
          pr[j] = d * zg;
          if (reset_after) {
            const float rec = g[3 * H + j];
            const float drp = dhp * rec * rg * (1.0f - rg);
            dr[H + j] = drp;
            dc[j] = dzp;
            dc[H + j] = drp;
            dc[2 * H + j] = dhp * rg;
          } else {
            rhs[(r * T + t) * H + j] = rg * hpr[j];
          }
        }
      }
      if (reset_after) {
        gemm(R, N, H, drec + t * N, T * N, 1, ut, H, pass, H, dh, H);  // dh_{t-1} = drec U^T + dh z
      } else {
        // d(r * h_prev) = dhh_pre U_h^T, then dr_pre, then dh_{t-1} = [dz, dr] U_zr^T + dh z + d(rh) r.
        gemm(R, H, H, dxw + t * N + 2 * H, T * N, 1, ut + 2 * H * H, H, zeros_for(H), 0, drh, H);
        for (int64_t r = 0; r < R; ++r) {
          const int64_t b = rb + r, row = b * T + t;
          if (!q.real(b, t)) continue;
          const float* g = gates + row * S;
          const float* hpr = t == 0 ? h0 + b * H : hs + (row - 1) * H;
          float* dr = dxw + (r * T + t) * N;
          for (int64_t j = 0; j < H; ++j) {
            const float rg = g[H + j], d = drh[r * H + j];
            dr[H + j] = d * hpr[j] * rg * (1.0f - rg);
            pass[r * H + j] += d * rg;
          }
        }
        gemm(R, 2 * H, H, dxw + t * N, T * N, 1, ut, H, pass, H, dh, H);
      }
    }
    std::memcpy(dh0 + rb * H, dh, sizeof(float) * R * H);
    for (int64_t r = 0; r < R; ++r) {
      const int64_t b = rb + r;
      const float* dxr = dxw + r * T * N;
      if (reset_after) {
        const float* dcr = drec + r * T * N;
        recurrent_grads(q, b, N, dcr, N, h0, hs, du, N);
        for (int64_t t = 0; t < T; ++t)
          for (int64_t n = 0; n < N; ++n) db_rec[n] += dcr[t * N + n];
      } else {
        recurrent_grads(q, b, 2 * H, dxr, N, h0, hs, du, N);  // the z and r columns
        gemm(H, T, H, rhs + r * T * H, 1, H, dxr + 2 * H, N, du + 2 * H, N, du + 2 * H, N);
      }
      input_grads(q, b, N, dxr, x, wt, dx, dw, db);
    }
  }
}

// ---------------------------------------------------------------- FFI entry points

ffi::Error SimpleForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> mask, ffi::Buffer<ffi::F32> w,
                             ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> bias, ffi::Buffer<ffi::F32> h0,
                             bool reverse, int64_t threads, ffi::ResultBuffer<ffi::F32> hs) {
  const auto xd = x.dimensions(), ud = u.dimensions();
  if (xd.size() != 3 || ud.size() != 2 || ud[0] != ud[1])
    return ffi::Error::InvalidArgument("rnnlab simple rnn: x must be [B, T, D] and the recurrent kernel [H, H]");
  const Seq q{xd[0], xd[1], xd[2], ud[0], reverse, mask.typed_data()};
  advise_huge(hs->typed_data(), sizeof(float) * q.B * q.T * q.H);
  for_blocks(q.B, threads, [&](int64_t k0, int64_t k1) {
    simple_forward(q, k0, k1, x.typed_data(), w.typed_data(), u.typed_data(), bias.typed_data(), h0.typed_data(),
                   hs->typed_data());
  });
  return ffi::Error::Success();
}

ffi::Error SimpleBackwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> mask, ffi::Buffer<ffi::F32> wt,
                              ffi::Buffer<ffi::F32> ut, ffi::Buffer<ffi::F32> h0, ffi::Buffer<ffi::F32> hs,
                              ffi::Buffer<ffi::F32> dhs, bool reverse, int64_t threads,
                              ffi::ResultBuffer<ffi::F32> dx, ffi::ResultBuffer<ffi::F32> dw,
                              ffi::ResultBuffer<ffi::F32> du, ffi::ResultBuffer<ffi::F32> db,
                              ffi::ResultBuffer<ffi::F32> dh0) {
  const auto xd = x.dimensions();
  const Seq q{xd[0], xd[1], xd[2], hs.dimensions()[2], reverse, mask.typed_data()};
  const int64_t D = q.D, H = q.H, stride = D * H + H * H + H, blocks = block_count(q.B);
  std::vector<float> slots(static_cast<size_t>(blocks * stride), 0.0f);
  advise_huge(dx->typed_data(), sizeof(float) * q.B * q.T * D);
  for_blocks(q.B, threads, [&](int64_t k0, int64_t k1) {
    simple_backward(q, k0, k1, x.typed_data(), wt.typed_data(), ut.typed_data(), h0.typed_data(), hs.typed_data(),
                    dhs.typed_data(), dx->typed_data(), dh0->typed_data(), slots.data(), stride);
  });
  sum_slots(slots, blocks, D * H, 0, stride, dw->typed_data());
  sum_slots(slots, blocks, H * H, D * H, stride, du->typed_data());
  sum_slots(slots, blocks, H, D * H + H * H, stride, db->typed_data());
  return ffi::Error::Success();
}

ffi::Error GruForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> mask, ffi::Buffer<ffi::F32> w,
                          ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> bias, ffi::Buffer<ffi::F32> h0,
                          bool reverse, bool reset_after, int64_t threads, ffi::ResultBuffer<ffi::F32> hs,
                          ffi::ResultBuffer<ffi::F32> gates) {
  const auto xd = x.dimensions(), ud = u.dimensions();
  if (xd.size() != 3 || ud.size() != 2 || ud[1] != 3 * ud[0])
    return ffi::Error::InvalidArgument("rnnlab gru: x must be [B, T, D] and the recurrent kernel [H, 3H]");
  const Seq q{xd[0], xd[1], xd[2], ud[0], reverse, mask.typed_data()};
  advise_huge(hs->typed_data(), sizeof(float) * q.B * q.T * q.H);
  advise_huge(gates->typed_data(), sizeof(float) * q.B * q.T * (reset_after ? 4 : 3) * q.H);
  for_blocks(q.B, threads, [&](int64_t k0, int64_t k1) {
    gru_forward(q, reset_after, k0, k1, x.typed_data(), w.typed_data(), u.typed_data(), bias.typed_data(),
                h0.typed_data(), hs->typed_data(), gates->typed_data());
  });
  return ffi::Error::Success();
}

ffi::Error GruPredictImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> mask, ffi::Buffer<ffi::F32> w,
                          ffi::Buffer<ffi::F32> u, ffi::Buffer<ffi::F32> bias, ffi::Buffer<ffi::F32> h0,
                          bool reverse, bool reset_after, int64_t threads, ffi::ResultBuffer<ffi::F32> hs) {
  const auto xd = x.dimensions(), ud = u.dimensions();
  if (xd.size() != 3 || ud.size() != 2 || ud[1] != 3 * ud[0])
    return ffi::Error::InvalidArgument("rnnlab gru: x must be [B, T, D] and the recurrent kernel [H, 3H]");
  const Seq q{xd[0], xd[1], xd[2], ud[0], reverse, mask.typed_data()};
  for_blocks(q.B, threads, [&](int64_t k0, int64_t k1) {
    gru_forward(q, reset_after, k0, k1, x.typed_data(), w.typed_data(), u.typed_data(), bias.typed_data(),
                h0.typed_data(), hs->typed_data(), nullptr);
  });
  return ffi::Error::Success();
}

ffi::Error GruBackwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> mask, ffi::Buffer<ffi::F32> wt,
                           ffi::Buffer<ffi::F32> ut, ffi::Buffer<ffi::F32> h0, ffi::Buffer<ffi::F32> hs,
                           ffi::Buffer<ffi::F32> gates, ffi::Buffer<ffi::F32> dhs, bool reverse, bool reset_after,
                           int64_t threads, ffi::ResultBuffer<ffi::F32> dx, ffi::ResultBuffer<ffi::F32> dw,
                           ffi::ResultBuffer<ffi::F32> du, ffi::ResultBuffer<ffi::F32> db,
                           ffi::ResultBuffer<ffi::F32> dh0) {
  const auto xd = x.dimensions();
  const Seq q{xd[0], xd[1], xd[2], hs.dimensions()[2], reverse, mask.typed_data()};
  const int64_t D = q.D, H = q.H, N = 3 * H, nb = reset_after ? 2 * N : N;
  const int64_t stride = D * N + H * N + nb, blocks = block_count(q.B);
  std::vector<float> slots(static_cast<size_t>(blocks * stride), 0.0f);
  advise_huge(dx->typed_data(), sizeof(float) * q.B * q.T * D);
  for_blocks(q.B, threads, [&](int64_t k0, int64_t k1) {
    gru_backward(q, reset_after, k0, k1, x.typed_data(), wt.typed_data(), ut.typed_data(), h0.typed_data(),
                 hs.typed_data(), gates.typed_data(), dhs.typed_data(), dx->typed_data(), dh0->typed_data(),
                 slots.data(), stride);
  });
  sum_slots(slots, blocks, D * N, 0, stride, dw->typed_data());
  sum_slots(slots, blocks, H * N, D * N, stride, du->typed_data());
  sum_slots(slots, blocks, nb, D * N + H * N, stride, db->typed_data());
  return ffi::Error::Success();
}

}  // namespace

#define RNNLAB_ARG .Arg<ffi::Buffer<ffi::F32>>()
#define RNNLAB_RET .Ret<ffi::Buffer<ffi::F32>>()

// x, mask, kernel, recurrent kernel, bias, h0, c0 -> outputs, cell states, gates (all by step).
XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabLstmForward, LstmForwardImpl,
                              ffi::Ffi::Bind() RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG
                                  RNNLAB_ARG.Attr<bool>("reverse")
                                  .Attr<int64_t>("threads") RNNLAB_RET RNNLAB_RET RNNLAB_RET);

// The same without residuals (prediction): -> outputs by step, last cell states.
XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabLstmPredict, LstmPredictImpl,
                              ffi::Ffi::Bind() RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG
                                  RNNLAB_ARG.Attr<bool>("reverse")
                                  .Attr<int64_t>("threads") RNNLAB_RET RNNLAB_RET);

// x, mask, kernel^T, recurrent kernel^T, h0, c0, outputs, cell states, gates, d outputs, d last cell
// state -> dx, d kernel, d recurrent kernel, d bias, dh0, dc0.
XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabLstmBackward, LstmBackwardImpl,
                              ffi::Ffi::Bind() RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG
                                  RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG.Attr<bool>("reverse")
                                  .Attr<int64_t>("threads") RNNLAB_RET RNNLAB_RET RNNLAB_RET RNNLAB_RET
                                      RNNLAB_RET RNNLAB_RET);

// x, mask, kernel, recurrent kernel, bias, h0 -> outputs by step.
XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabSimpleForward, SimpleForwardImpl,
                              ffi::Ffi::Bind() RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG
                                  .Attr<bool>("reverse")
                                  .Attr<int64_t>("threads") RNNLAB_RET);

// x, mask, kernel^T, recurrent kernel^T, h0, outputs, d outputs -> dx, d kernel, d recurrent kernel,
// d bias, dh0.
XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabSimpleBackward, SimpleBackwardImpl,
                              ffi::Ffi::Bind() RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG
                                  RNNLAB_ARG.Attr<bool>("reverse")
                                  .Attr<int64_t>("threads") RNNLAB_RET RNNLAB_RET RNNLAB_RET RNNLAB_RET RNNLAB_RET);

// x, mask, kernel, recurrent kernel, bias ([3H], or [2, 3H] flattened with reset_after), h0 ->
// outputs, residuals by step.
XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabGruForward, GruForwardImpl,
                              ffi::Ffi::Bind() RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG
                                  .Attr<bool>("reverse")
                                  .Attr<bool>("reset_after")
                                  .Attr<int64_t>("threads") RNNLAB_RET RNNLAB_RET);

// The same without residuals (prediction): -> outputs by step.
XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabGruPredict, GruPredictImpl,
                              ffi::Ffi::Bind() RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG
                                  .Attr<bool>("reverse")
                                  .Attr<bool>("reset_after")
                                  .Attr<int64_t>("threads") RNNLAB_RET);

// x, mask, kernel^T, recurrent kernel^T, h0, outputs, residuals, d outputs -> dx, d kernel,
// d recurrent kernel, d bias (as the bias), dh0.
XLA_FFI_DEFINE_HANDLER_SYMBOL(RnnlabGruBackward, GruBackwardImpl,
                              ffi::Ffi::Bind() RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG RNNLAB_ARG
                                  RNNLAB_ARG RNNLAB_ARG.Attr<bool>("reverse")
                                  .Attr<bool>("reset_after")
                                  .Attr<int64_t>("threads") RNNLAB_RET RNNLAB_RET RNNLAB_RET RNNLAB_RET RNNLAB_RET);
