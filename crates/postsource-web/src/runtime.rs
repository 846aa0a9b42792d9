//! What `std` would otherwise provide to the wasm module: the global allocator
//! and, in the shipped build (feature `bundle`), the panic handler.
//!
//! The allocator is `talc` rather than std's dlmalloc: about 1.9 KB gzipped
//! smaller, and it reuses freed memory as well, so a long stream runs in
//! constant memory (tests/wasm.rs streams 150 MB of events and checks; both
//! allocators reach the same plateau there). It is set in every wasm build, so
//! the wasm-bindgen tests run on the allocator that ships.
//!
//! The panic handler only traps: with `panic = "abort"` a panic ends the module
//! anyway, and a handler that never reads its message drops std's panic hook,
//! payload boxing and most message formatting from the module. The shell's code
//! has no panicking path on purpose (every JS failure is a handled `Result`);
//! this is the backstop.

#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(feature = "bundle")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
