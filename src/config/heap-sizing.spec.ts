import { operatorSizesHeap } from './heap-sizing';

describe('operatorSizesHeap', () => {
  it('leaves the heap to the service when no flag sizes it', () => {
    expect(operatorSizesHeap('')).toBe(false);
    expect(operatorSizesHeap('--max-old-space-size=640 --enable-source-maps')).toBe(false);
  });

  it('keeps an operator’s young-generation or growth flags', () => {
    expect(operatorSizesHeap('--max-semi-space-size=16')).toBe(true);
    expect(operatorSizesHeap('--enable-source-maps --heap-growing-percent=20')).toBe(true);
    expect(operatorSizesHeap('--semi-space-growth-factor=2')).toBe(true);
    expect(operatorSizesHeap('--max_semi_space_size=8')).toBe(true);
  });
});
