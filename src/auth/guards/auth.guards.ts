import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiParam, ApiQuery } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AppException, unauthorized } from '../../common/errors/app.exception';
import { GraphErrors } from '../../common/errors/graph.exception';
import { safeEqual } from '../../common/crypto/tokens';
import { readMultipartLead } from '../../common/http/multipart-lead';
import { AppConfig } from '../../config/app-config';
import { AuthService } from '../auth.service';
import { Principal, PrincipalKind } from '../principal';
import { bearerToken, graphParam, graphToken } from './token-extract';

type AuthedRequest = FastifyRequest & { principal?: Principal };

const GRAPH_KINDS = 'sb:graph-kinds';
const GRAPH_MULTIPART = 'sb:graph-multipart';
const GRAPH_VERSION = /^v\d+\.\d+$/;

@Injectable()
export class PersonGuard implements CanActivate {
  constructor(private readonly auth: AuthService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const token = bearerToken(req);
    if (!token) throw unauthorized('A bearer token is required');
    const principal = await this.auth.verify(token);
    if (!principal) throw unauthorized('The token is invalid or expired');
    if (principal.kind !== 'person') throw new AppException(403, 'AUTH.WRONG_TOKEN_KIND', 'A person token is required');
    req.principal = principal;
    return true;
  }
}

@Injectable()
export class GraphGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const version = (req.params as Record<string, string> | undefined)?.graphVersion;
    // `/:graphVersion/...` also matches paths like /foo/bar: those are simply not routes.
    if (!version || !GRAPH_VERSION.test(version)) {
      throw new AppException(404, 'NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`);
    }
    const kinds = this.reflector.get<PrincipalKind[]>(GRAPH_KINDS, ctx.getHandler()) ?? [];
    if (this.reflector.get<boolean>(GRAPH_MULTIPART, ctx.getHandler()) && req.isMultipart()) await readMultipartLead(req);
    const token = graphToken(req);
    if (!token) throw GraphErrors.invalidToken('An active access token must be used to query information');
    const caller = await this.auth.verifyGraphCaller(token);
    if (!caller) throw GraphErrors.invalidToken('Invalid OAuth access token - Cannot parse access token');
    const principal = caller.principal;
    // appsecret_proof: checked whenever present, required when the app says so (page and app tokens).
    if (principal.kind !== 'person') {
      const proof = graphParam(req, 'appsecret_proof');
      if (proof !== undefined) {
        const time = graphParam(req, 'appsecret_time');
        if (!(await this.auth.verifyAppsecretProof(principal.appId, token, proof, time))) throw GraphErrors.invalidAppsecretProof();
      } else if (caller.requireProof) {
        throw GraphErrors.appsecretProofRequired();
      }
    }
    if (!kinds.includes(principal.kind)) {
      throw GraphErrors.permission(`(#200) This endpoint requires a ${kinds.join(' or ')} access token`);
    }
    req.principal = principal;
    return true;
  }
}

@Injectable()
export class AdminGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const token = bearerToken(req);
    const expected = this.config.env.ADMIN_TOKEN;
    if (!token) throw unauthorized('The admin token is required');
    if (!expected || !safeEqual(token, expected)) throw unauthorized('The admin token is invalid');
    return true;
  }
}

export const PersonAuth = () => applyDecorators(UseGuards(PersonGuard), ApiBearerAuth('person'));
export const AdminAuth = () => applyDecorators(UseGuards(AdminGuard), ApiBearerAuth('admin'));
export const GraphAuth = (...kinds: PrincipalKind[]) =>
  applyDecorators(
    SetMetadata(GRAPH_KINDS, kinds),
    UseGuards(GraphGuard),
    ApiParam({ name: 'graphVersion', example: 'v25.0', description: 'Any Graph version, e.g. v25.0' }),
    ApiQuery({ name: 'access_token', required: false, description: `${kinds.join(' or ')} access token` }),
    ApiBearerAuth('graph'),
  );

// A Graph route that reads multipart bodies: its caller's access_token and appsecret_proof may be fields of the
// body, before the file (Facebook's PHP SDK sends them so).
export const GraphMultipart = () => SetMetadata(GRAPH_MULTIPART, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext) => {
  return ctx.switchToHttp().getRequest<AuthedRequest>().principal;
});
