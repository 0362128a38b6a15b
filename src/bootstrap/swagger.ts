import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Switchboard')
    .setDescription(
      'Self-hosted messaging platform compatible with the Messenger Platform. ' +
        'REST routes answer errors as {statusCode, code, message, details?, requestId}; ' +
        'Graph-compatible routes (/v{major}.{minor}/...) answer {error:{message, type, code, error_subcode?, fbtrace_id}}.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Person token from /auth/login' }, 'person')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' }, 'admin')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Page, app or person token (or ?access_token=)' }, 'graph')
    .build();
  return SwaggerModule.createDocument(app, config, { deepScanRoutes: true });
}

export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs/openapi.json',
    swaggerOptions: { persistAuthorization: true },
  });
}
