import { operatorSizing } from './heap-sizing';

describe('operatorSizing', () => {
  it('leaves both settings to the service when no flag makes them', () => {
    expect(operatorSizing('')).toEqual({ youngGeneration: false, oldGenerationGrowth: false });
    expect(operatorSizing('--max-old-space-size=640 --enable-source-maps')).toEqual({
      youngGeneration: false,
      oldGenerationGrowth: false,
    });
  });

  it('gives each setting the operator makes to the operator, and only that one', () => {
    expect(operatorSizing('--max-semi-space-size=4')).toEqual({ youngGeneration: true, oldGenerationGrowth: false });
    expect(operatorSizing('--max_semi_space_size=8')).toEqual({ youngGeneration: true, oldGenerationGrowth: false });
    expect(operatorSizing('--semi-space-growth-factor=2')).toEqual({
      youngGeneration: true,
      oldGenerationGrowth: false,
    });
    expect(operatorSizing('--enable-source-maps --heap-growing-percent=20')).toEqual({
      youngGeneration: false,
      oldGenerationGrowth: true,
    });
    expect(operatorSizing('--max-semi-space-size=16 --heap_growing_percent=100')).toEqual({
      youngGeneration: true,
      oldGenerationGrowth: true,
    });
  });
});
