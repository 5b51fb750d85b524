import { AppConfig } from '../../config/app-config';
import { FileEnvironment } from '../file.environment';

describe('SEARCH_INDEX', () => {
  it('defaults to the quantized index (also when empty) and accepts exact and hnsw', () => {
    expect(AppConfig.fromEnv({}).section(FileEnvironment).SEARCH_INDEX).toBe('quantized');
    expect(AppConfig.fromEnv({ SEARCH_INDEX: '' }).section(FileEnvironment).SEARCH_INDEX).toBe('quantized');
    expect(AppConfig.fromEnv({ SEARCH_INDEX: 'exact' }).section(FileEnvironment).SEARCH_INDEX).toBe('exact');
    expect(AppConfig.fromEnv({ SEARCH_INDEX: 'hnsw' }).section(FileEnvironment).SEARCH_INDEX).toBe('hnsw');
  });

  it('rejects any other value at startup, naming the variable and its choices', () => {
    expect(() => AppConfig.fromEnv({ SEARCH_INDEX: 'faiss' })).toThrow(
      /SEARCH_INDEX: SEARCH_INDEX must be one of exact, quantized, hnsw/,
    );
  });
});
