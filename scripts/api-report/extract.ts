/**
 * One API report per entry point, written by API Extractor from the emitted declarations: every
 * exported name with its kind and full signature, and the `@internal` members marked. Release tags
 * (`@public`, `@beta`) and TSDoc style are not checked here (typedoc checks the docs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Extractor,
  ExtractorConfig,
  ExtractorLogLevel,
  type ExtractorMessage,
} from '@microsoft/api-extractor';
import type { Declarations } from './declarations.js';
import { type EntryPoint, specifier } from './entry-points.js';

/** A report, and what API Extractor complained about while writing it. */
export interface Extracted {
  readonly text: string;
  readonly problems: readonly string[];
}

const quiet = { logLevel: ExtractorLogLevel.None, addToApiReportFile: false };

/** Write the report of `entry` into `tempDir` and return it. */
export function extractReport(
  root: string,
  entry: EntryPoint,
  decls: Declarations,
  tempDir: string,
): Extracted {
  const reportFileName = entry.report.replace(/\.api\.md$/, '');
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: join(root, 'packages', entry.pkg),
      newlineKind: 'lf',
      mainEntryPointFilePath: decls.of(entry.pkg, entry.source),
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            lib: ['ES2023'],
            types: ['node'],
            typeRoots: [join(root, 'node_modules', '@types')],
            skipLibCheck: true,
          },
          files: [decls.of(entry.pkg, entry.source)],
        },
      },
      apiReport: { enabled: true, reportFileName, reportFolder: tempDir, reportTempFolder: tempDir },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: true },
          'ae-missing-release-tag': quiet,
          'ae-internal-missing-underscore': quiet,
          'ae-unresolved-link': quiet,
          'ae-undocumented': quiet,
          // A type another entry point exports (EventStoreDriver in EventStoreOptions): noted in
          // the report, where its own entry point's report has its signature.
          'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
        },
        tsdocMessageReporting: { default: quiet },
      },
    },
    configObjectFullPath: undefined,
    packageJson: { name: `@ctlplane/${entry.pkg}`, version: '0.0.0' },
    packageJsonFullPath: join(root, 'packages', entry.pkg, 'package.json'),
  });
  const problems: string[] = [];
  const result = Extractor.invoke(config, {
    localBuild: true,
    typescriptCompilerFolder: join(root, 'node_modules', 'typescript'),
    messageCallback: (m: ExtractorMessage) => {
      if (m.logLevel === ExtractorLogLevel.Warning || m.logLevel === ExtractorLogLevel.Error) {
        problems.push(`${specifier(entry)}: ${m.formatMessageWithLocation(root)}`);
      }
      m.handled = true;
    },
  });
  if (!result.succeeded && problems.length === 0) problems.push(`${specifier(entry)}: API Extractor failed`);
  // API Extractor names the package; the report names the entry point.
  // Locations in its notes are made relative to the scratch folder, so the report is the same on
  // every machine and run.
  const text = readFileSync(join(tempDir, entry.report), 'utf8')
    .replace(/^## API Report File for ".*"$/m, `## API Report File for "${specifier(entry)}"`)
    .replaceAll(`${decls.dir}/`, '');
  return { text, problems };
}
